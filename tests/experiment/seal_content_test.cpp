// commit() checks each attachment with its codec's streaming check (the
// one validate runs) as it hashes it, compressed or not: what the codec
// refuses is refused by name and nothing is tagged; what it accepts
// validates.
#include <doctest/doctest.h>

#include "sealrun/codecs/npy.h"
#include "sealrun/content/memory.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;

namespace {

// npy is an NPY 1.0 file around a header dict written by hand.
std::string npy(std::string dict, const std::string& data) {
    dict.append((10 + dict.size() + 1 + 63) / 64 * 64 - 10 - dict.size() - 1, ' ');
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(dict.size());
    out += '\0';
    return out + dict + data;
}

// A structured array as NumPy writes it: valid, not decoded by sealrun.
std::string structured_npy() { return npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", std::string(8, '\x01')); }

}  // namespace

TEST_CASE("commit refuses an attachment its codec cannot read, compressed or not, naming it") {
    const std::vector<std::string> names = {"names.npy"};
    const auto good = codecs::NpyCodec::encode(codecs::NdArray::from_strings({1}, names));
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"cut.npy", good.substr(0, good.size() - 1)},
        {"objects.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", std::string(8, 'x'))},
        {"broken.json", "{\"loss\": "},
    };
    for (const bool compress : {false, true}) {
        for (const auto& [name, bytes] : bad) {
            CAPTURE(compress);
            CAPTURE(name);
            test::TempDir dir;
            RecordStore store(dir / "storage");
            Experiment exp(store, "x", test::fixed_options());
            exp.run([&](Run& r) {
                r.save_file("ok.npy", codecs::NdArray::from_strings({1}, names));
                test::write_file(r.local_directory() / name, bytes);
            });
            content::MemoryTarget t;
            const auto e = test::thrown([&] { exp.commit(t, "v1", SealOptions{.compress = compress}); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, name));
            CHECK(t.tags().empty());
        }
        // and what the codec accepts, sealrun seals and validate passes
        test::TempDir dir;
        RecordStore store(dir / "storage");
        Experiment exp(store, "x", test::fixed_options());
        exp.run([&](Run& r) {
            r.save_file("ok.npy", codecs::NdArray::from_strings({1}, names));
            test::write_file(r.local_directory() / "table.npy", structured_npy());
        });
        content::MemoryTarget t;
        exp.commit(t, "v1", SealOptions{.compress = compress});
        const auto report = validate(t, "v1");
        CHECK(report.ok());
        CHECK(report.warnings() == 1);  // table.npy: not decoded
    }
}
