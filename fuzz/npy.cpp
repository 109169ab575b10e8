// NumPy .npy files: NpyCodec::decode refuses cleanly, or gives an array
// whose size matches its shape, that re-encodes to an equal array and whose
// elements convert to doubles (numbers) or strings (str, bytes, void).
// NpyCodec::check, the streaming rule validate() and sealing use, agrees
// with decode on every input: it throws what decode throws, or returns a
// note exactly when decode finds the file acceptable but its dtype not
// decoded (Error(unsupported)).
#include <optional>

#include "common.h"
#include "sealrun/codecs/npy.h"
#include "sealrun/content/stream.h"

namespace codecs = sealrun::codecs;

namespace {

bool flexible(codecs::DType t) {
    return t == codecs::DType::str || t == codecs::DType::bytes || t == codecs::DType::void_;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = fuzz::bytes(data, size);
    std::optional<sealrun::Errc> checked;
    std::string note;
    try {
        sealrun::content::BytesStream in{std::string(input)};
        note = codecs::NpyCodec::check(in);
    } catch (const sealrun::Error& e) {
        checked = e.code();
    }
    std::optional<sealrun::Errc> decoded;
    codecs::NdArray a;
    try {
        a = codecs::NpyCodec::decode(input);
    } catch (const sealrun::Error& e) {
        decoded = e.code();
    }
    if (decoded == sealrun::Errc::unsupported) {
        FUZZ_EXPECT(!checked && !note.empty(), "check refused, or left no note for, a dtype decode does not support");
        return 0;
    }
    FUZZ_EXPECT(checked == decoded, "check and decode disagree");
    FUZZ_EXPECT(note.empty(), "check left a note on a decodable file");
    if (decoded) return 0;

    FUZZ_EXPECT(fuzz::guarded([&] { a.check_size(); }), "decoded array fails check_size");
    std::string bytes;
    FUZZ_EXPECT(fuzz::guarded([&] { bytes = codecs::NpyCodec::encode(a); }), "decoded array does not encode");
    codecs::NdArray again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = codecs::NpyCodec::decode(bytes); }), "encoded array does not decode");
    FUZZ_EXPECT(again.dtype == a.dtype && again.shape == a.shape && again.fortran_order == a.fortran_order &&
                    again.length == a.length && again.data == a.data,
                "array does not round-trip");
    if (flexible(a.dtype)) {
        std::vector<std::string> s;
        FUZZ_EXPECT(fuzz::guarded([&] { s = a.strings(); }), "strings refused a decoded string array");
        FUZZ_EXPECT(s.size() == a.element_count(), "strings lost elements");
        if (a.dtype != codecs::DType::void_ && a.shape.size() == 1) {
            // What strings() gives, from_strings() stores back the same
            // (the length may shrink to the longest value).
            codecs::NdArray b;
            FUZZ_EXPECT(fuzz::guarded([&] { b = codecs::NdArray::from_strings(a.shape, s, a.dtype); }),
                        "from_strings refused what strings returned");
            FUZZ_EXPECT(b.strings() == s, "strings do not round-trip through from_strings");
        }
    } else if (a.dtype != codecs::DType::complex64 && a.dtype != codecs::DType::complex128) {
        std::vector<double> v;
        FUZZ_EXPECT(fuzz::guarded([&] { v = a.as_double(); }), "as_double refused a real array");
        FUZZ_EXPECT(v.size() == a.element_count(), "as_double lost elements");
    }
    return 0;
}
