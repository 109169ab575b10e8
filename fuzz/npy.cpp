// NumPy .npy files: NpyCodec::decode refuses cleanly, or gives an array
// whose size matches its shape, that re-encodes to an equal array and whose
// elements convert to doubles.
#include "common.h"
#include "sealrun/codecs/npy.h"

namespace codecs = sealrun::codecs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    codecs::NdArray a;
    if (!fuzz::guarded([&] { a = codecs::NpyCodec::decode(fuzz::bytes(data, size)); })) return 0;
    FUZZ_EXPECT(fuzz::guarded([&] { a.check_size(); }), "decoded array fails check_size");
    std::string bytes;
    FUZZ_EXPECT(fuzz::guarded([&] { bytes = codecs::NpyCodec::encode(a); }), "decoded array does not encode");
    codecs::NdArray again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = codecs::NpyCodec::decode(bytes); }), "encoded array does not decode");
    FUZZ_EXPECT(again.dtype == a.dtype && again.shape == a.shape && again.fortran_order == a.fortran_order &&
                    again.data == a.data,
                "array does not round-trip");
    if (a.dtype != codecs::DType::complex64 && a.dtype != codecs::DType::complex128) {
        std::vector<double> v;
        FUZZ_EXPECT(fuzz::guarded([&] { v = a.as_double(); }), "as_double refused a real array");
        FUZZ_EXPECT(v.size() == a.element_count(), "as_double lost elements");
    }
    return 0;
}
