// The media type of an attachment (src/media_types.h, docs/FORMAT.md "Media
// types"): sealrun's codecs by extension, /etc/mime.types, libmagic on the
// first 64 KiB, text only for UTF-8; the user's override; what seal, load,
// validate and the sealed view make of it. Binary fixtures are real: NumPy,
// Python's pickle and gzip write them.
#include <doctest/doctest.h>

#include <cstring>

#include "codecs/media_types.h"
#include "sealrun/codecs/bytes.h"
#include "sealrun/codecs/text.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::contains;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

const std::string python = "/usr/bin/python3";  // Debian's, with NumPy

// A 1x1 PNG, byte for byte.
const std::string png_bytes = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde", 33) +
                              std::string("\0\0\0\x0cIDATx\x9c" "c\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef", 24) +
                              std::string("\0\0\0\0IEND\xae" "B`\x82", 12);
// The HDF5 superblock signature and a Parquet file's magic at both ends.
const std::string h5_bytes = std::string("\x89HDF\r\n\x1a\n", 8) + std::string(200, '\0');
const std::string parquet_bytes = "PAR1" + std::string(100, '\0') + "PAR1";
const std::string binary_bytes = std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16) + std::string(64, '\x01');

// Python writes the real files once: x.npz (np.savez), p.pkl (pickle), g.gz (gzip).
struct PythonFiles {
    test::TempDir dir;
    std::string bytes(const std::string& f) const { return test::read_file(dir / f); }
};

const PythonFiles& python_files() {
    static const std::unique_ptr<PythonFiles> files = [] {
        auto f = std::make_unique<PythonFiles>();
        const auto r = test::run({python, "-c",
                                  "import sys, gzip, pickle, numpy as np\n"
                                  "d = sys.argv[1]\n"
                                  "np.savez(d + '/x.npz', a=np.arange(10), b=np.eye(3))\n"
                                  "pickle.dump({'lr': 0.1, 'w': [1, 2, 3]}, open(d + '/p.pkl', 'wb'))\n"
                                  "gzip.open(d + '/g.gz', 'wb').write(b'loss 0.1\\n' * 100)\n",
                                  f->dir.path().string()});
        INFO(r.output);
        REQUIRE_MESSAGE(r.exit_code == 0, "needs " << python << " with NumPy (apt-get install python3-numpy)");
        return f;
    }();
    return *files;
}

std::string detect(std::string_view name, std::string_view bytes) {
    return media::detect_bytes(CodecRegistry::global(), name, bytes);
}

// CountingStream yields `size` copies of `fill` and counts what was read.
class CountingStream final : public content::ReadStream {
public:
    CountingStream(std::uint64_t size, char fill, std::string head = {}) : size_(size), fill_(fill), head_(std::move(head)) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size_ - read_));
        std::memset(buffer.data(), fill_, n);
        for (std::size_t i = 0; i < n && read_ + i < head_.size(); ++i) buffer[i] = std::byte(head_[read_ + i]);
        read_ += n;
        largest_ = std::max(largest_, buffer.size());
        return n;
    }
    std::uint64_t read_ = 0;
    std::size_t largest_ = 0;

private:
    std::uint64_t size_;
    char fill_;
    std::string head_;
};

}  // namespace

TEST_CASE("media types: binary files are never text/plain") {
    const auto& py = python_files();
    CHECK(detect("plot.png", png_bytes) == "image/png");
    CHECK(detect("plot", png_bytes) == "image/png");  // no extension: libmagic
    CHECK(detect("arrays.npz", py.bytes("x.npz")) == "application/zip");
    CHECK(detect("model.pkl", py.bytes("p.pkl")) == "application/x-python-pickle");  // sealrun's pickle codec
    CHECK(detect("model", py.bytes("p.pkl")) == "application/octet-stream");
    CHECK(detect("log.gz", py.bytes("g.gz")) == "application/gzip");
    CHECK(detect("log", py.bytes("g.gz")) == "application/gzip");
    CHECK(detect("data.h5", h5_bytes) == "application/octet-stream");  // libmagic's x-hdf5 is not in mime.types
    CHECK(detect("data.parquet", parquet_bytes) == "application/octet-stream");
    CHECK(detect("weights", binary_bytes) == "application/octet-stream");
    CHECK(detect("weights.bin", binary_bytes) == "application/octet-stream");
    CHECK(detect("zeros", std::string(4096, '\0')) == "application/octet-stream");  // ASCII, but NUL is not text
    for (const auto& [name, bytes] : {std::pair{"plot.png", png_bytes}, {"x.h5", h5_bytes}, {"w", binary_bytes}}) {
        CAPTURE(name);
        CHECK_FALSE(media::is_text_type(detect(name, bytes)));
    }
}

TEST_CASE("media types: text is text/… only when it is UTF-8") {
    CHECK(detect("notes", "héllo, wörld\n") == "text/plain");
    CHECK(detect("README", "") == "text/plain");
    CHECK(detect("table.csv", "a,b\n1,2\n") == "text/csv");
    CHECK(detect("TABLE.CSV", "a,b\n1,2\n") == "text/csv");  // mime.types is read case-insensitively
    CHECK(detect("table.csv", "a,b\n\xe9t\xe9\n") == "application/octet-stream");  // Latin-1 is not UTF-8
    CHECK(detect("run.log", "step 1\n") == "text/plain");                            // sealrun's text codec
    CHECK(detect("run.log", std::string("step\0 1\n", 8)) == "application/octet-stream");
    CHECK(detect("train.py", "print('x')\n") == "text/x-python");
    CHECK(detect("result.json", "{\"a\": 1}") == "application/json");
    CHECK(detect("result", "{\"a\": 1}") == "text/plain");  // sniffed JSON picks no codec: text
    CHECK(detect("curve.jsonl", "{}\n") == "application/jsonl");
    CHECK(detect(".hidden", "x") == "text/plain");  // a leading dot starts no extension
    CHECK(detect("dir.png/notes", "x") == "text/plain");
}

TEST_CASE("media types: the sniff reads at most 64 KiB of a binary file, and text streams") {
    const auto& codecs = CodecRegistry::global();
    CountingStream binary(std::uint64_t{1} << 30, '\x01', png_bytes);
    CHECK(media::detect(codecs, "big", binary) == "image/png");
    CHECK(binary.read_ <= media::sniff_limit);
    CountingStream noise(std::uint64_t{1} << 30, '\xff');
    CHECK(media::detect(codecs, "big.weird", noise) == "application/octet-stream");
    CHECK(noise.read_ <= media::sniff_limit + content::default_chunk_size);
    CountingStream png(std::uint64_t{1} << 30, '\0');
    CHECK(media::detect(codecs, "big.png", png) == "image/png");
    CHECK(png.read_ == 0);  // a binary type by extension reads nothing
    CountingStream text(std::uint64_t{64} << 20, 'a');
    CHECK(media::detect(codecs, "big.csv", text) == "text/csv");
    CHECK(text.read_ == std::uint64_t{64} << 20);
    CHECK(text.largest_ <= content::default_chunk_size);
}

TEST_CASE("media types: the UTF-8 check across chunk boundaries") {
    const std::string s = "a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80" "d";
    for (std::size_t cut = 0; cut <= s.size(); ++cut)
        for (std::size_t cut2 = cut; cut2 <= s.size(); ++cut2) {
            media::TextCheck t;
            t.update(s.substr(0, cut));
            t.update(s.substr(cut, cut2 - cut));
            t.update(s.substr(cut2));
            CHECK(t.finish());
        }
    for (const std::string& bad : {std::string("\xc3"), std::string("a\xc3(b"), std::string("\xed\xa0\x80"),
                                  std::string("\xc0\xaf"), std::string("\xf4\x90\x80\x80"), std::string("\xff"),
                                  std::string("ab\0c", 4), std::string("\xe2\x82")}) {
        CAPTURE(bad);
        CHECK_FALSE(media::is_text(bad));
        for (std::size_t cut = 0; cut <= bad.size(); ++cut) {
            media::TextCheck t;
            t.update(bad.substr(0, cut));
            t.update(bad.substr(cut));
            CHECK_FALSE(t.finish());
            CHECK(contains(t.problem(), "at byte"));
        }
    }
    media::TextCheck t;
    t.update("abcdefghij");
    t.update(std::string("x\0", 2));
    CHECK_FALSE(t.finish());
    CHECK(t.problem() == "a NUL byte at byte 11");
}

TEST_CASE("media types: mime.types lines") {
    const auto db = media::MimeTypes::parse(
        "# comment\n"
        "text/csv\t\tcsv CSVX # trailing comment\n"
        "application/x-a  dup\n"
        "application/x-b  dup\n"
        "not a type  bad\n"
        "text/html;charset=x  htm2\n"
        "application/no-extensions\n"
        "\n   \t\n");
    CHECK(db.by_extension("csv") == "text/csv");
    CHECK(db.by_extension("CSV") == "text/csv");
    CHECK(db.by_extension("csvx") == "text/csv");
    CHECK(db.by_extension("dup") == "application/x-b");  // the last line wins
    CHECK_FALSE(db.by_extension("bad"));
    CHECK_FALSE(db.by_extension("htm2"));
    CHECK_FALSE(db.by_extension("comment"));
    CHECK_FALSE(db.by_extension(""));
    CHECK(db.knows("application/no-extensions"));
    CHECK_FALSE(db.knows("not"));
    // Debian's own file is there (the media-types package) and large.
    CHECK(media::MimeTypes::system().size() > 1000);
    CHECK(media::MimeTypes::system().by_extension("png") == "image/png");
}

TEST_CASE("media types: every type sealrun chooses has a codec; unknown types have none") {
    const auto& r = CodecRegistry::global();
    CHECK(r.by_media_type("image/png")->value_type == typeid(codecs::Bytes));
    CHECK(r.by_media_type("application/zip+zstd")->value_type == typeid(codecs::Bytes));
    CHECK(r.by_media_type("text/csv")->value_type == typeid(std::string));
    CHECK(r.by_media_type("text/x-anything")->value_type == typeid(std::string));
    CHECK(r.by_media_type("application/json")->media_type == "application/json");
    CHECK(r.by_media_type("application/x-pytorch") == nullptr);
    CHECK(r.registered_codec("image/png") == nullptr);
    CHECK(r.extension_codec("a.png") == nullptr);
    CHECK(r.extension_codec("a.pkl")->media_type == "application/x-python-pickle");
    CodecRegistry empty;
    CHECK(empty.by_media_type("image/png") == nullptr);
    const auto v = decode_value(r, "image/png", png_bytes);
    CHECK(v.media_type() == "image/png");
    CHECK(v.as<codecs::Bytes>().data == png_bytes);
}

TEST_CASE("media types: the text codec's check reports bytes that are not text") {
    content::BytesStream ok(std::string("line\n"));
    CHECK(codecs::TextCodec::check(ok).empty());
    content::BytesStream bad(png_bytes);
    CHECK(contains(codecs::TextCodec::check(bad), "not UTF-8 text"));
}

TEST_CASE("media types: seal labels what it seals, and validate --strict calls it valid") {
    const auto& py = python_files();
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "files", test::fixed_options());
    exp.run([&](Run& r) {
        r.save_file("plot.png", codecs::Bytes{png_bytes});
        r.save_file("weights", codecs::Bytes{binary_bytes});
        r.save_file("notes", std::string("ünïcode notes\n"));
        r.save_file("table.csv", std::string("a,b\n1,2\n"));
        r.save_file("latin.csv", std::string("a\n\xe9\n"));
        r.import_file("arrays.npz", py.dir / "x.npz");
        r.import_file("model.pkl", py.dir / "p.pkl");
        r.import_file("log.gz", py.dir / "g.gz");
        r.save_file("data.h5", codecs::Bytes{h5_bytes});
        r.save_file("data.parquet", codecs::Bytes{parquet_bytes});
    });
    exp.commit("v1", SealOptions{.compress = false});
    content::OciLayout layout(dir / "storage");
    const auto run = SealedExperiment::open(layout, "v1").run(0);
    const std::map<std::string, std::string> expected = {
        {"plot.png", "image/png"},          {"weights", "application/octet-stream"},
        {"notes", "text/plain"},            {"table.csv", "text/csv"},
        {"latin.csv", "application/octet-stream"}, {"arrays.npz", "application/zip"},
        {"model.pkl", "application/x-python-pickle"}, {"log.gz", "application/gzip"},
        {"data.h5", "application/octet-stream"}, {"data.parquet", "application/octet-stream"},
    };
    for (const auto& [name, type] : expected) {
        CAPTURE(name);
        CHECK(run.attachment_media_type(name) == type);
        CHECK(run.attachment_compression(name) == "");
    }
    CHECK(run.get_attachment("plot.png").as<codecs::Bytes>().data == png_bytes);
    CHECK(run.get_attachment("table.csv").as<std::string>() == "a,b\n1,2\n");
    const auto report = validate(layout, "v1", {.strict = true});
    INFO(to_text(report));
    CHECK(report.ok());
    CHECK(report.warnings() == 0);
}

TEST_CASE("media types: a compressed attachment reports its logical type and its compression apart") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "zipped", test::fixed_options());
    exp.run([&](Run& r) {
        r.save_file("result.json", {{"loss", 0.1}});
        r.save_file("plot.png", codecs::Bytes{png_bytes});
    });
    exp.commit("v1", SealOptions{.compress = true});
    content::OciLayout layout(dir / "storage");
    const auto run = SealedExperiment::open(layout, "v1").run(0);
    CHECK(run.attachment_media_type("result.json") == "application/json");
    CHECK(run.attachment_compression("result.json") == "zstd");
    CHECK(run.attachments().descriptor("result.json").media_type == "application/json+zstd");
    CHECK(run.attachment_media_type("plot.png") == "image/png");
    CHECK(run.attachment_compression("plot.png") == "zstd");
    CHECK(run.get_json("result.json")["loss"] == 0.1);
    CHECK(errc_of([&] { (void)run.attachment_compression("absent"); }) == Errc::not_found);
}

TEST_CASE("media types: the user's type wins, is checked, and is forgotten when the file is saved again") {
    test::TempDir dir;
    test::write_file(dir / "w.pt", png_bytes);
    RecordStore store(dir / "storage");
    Experiment exp(store, "override", test::fixed_options());
    Run& r = exp.run();
    r.import_file("weights.pt", dir / "w.pt", "application/x-pytorch");
    r.save_file("raw.json", codecs::Bytes{"not json"}, "application/octet-stream");
    r.save_file("blob.weird", codecs::Bytes{binary_bytes}, "application/vnd.example.blob");
    r.save_file("again.bin", codecs::Bytes{binary_bytes}, "application/x-first");
    r.save_file("again.bin", codecs::Bytes{binary_bytes});
    CHECK(r.media_types() == std::map<std::string, std::string>{{"blob.weird", "application/vnd.example.blob"},
                                                                {"raw.json", "application/octet-stream"},
                                                                {"weights.pt", "application/x-pytorch"}});
    // Bad types and bytes a codec refuses are refused before anything is written.
    for (const char* bad : {"", "pytorch", "application/x pytorch", "text/plain; charset=utf-8", "application/json+zstd"}) {
        CAPTURE(bad);
        if (*bad == '\0') continue;  // empty means "sealrun decides"
        CHECK(errc_of([&] { r.import_file("bad.pt", dir / "w.pt", bad); }) == Errc::invalid_input);
        CHECK(errc_of([&] { r.save_file("bad.pt", codecs::Bytes{"x"}, bad); }) == Errc::invalid_input);
    }
    CHECK_FALSE(fs::exists(r.local_directory() / "bad.pt"));
    const auto e = test::thrown([&] { r.save_file("broken.json", codecs::Bytes{"{broken"}); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(contains(e.message, "not application/json"));
    CHECK(errc_of([&] { r.save_file("broken.bin", codecs::Bytes{"{broken"}, "application/json"); }) == Errc::invalid_input);
    r.save_file("good.json", codecs::Bytes{"{\"a\": 1}"});
    // Raw bytes load back as bytes under any name.
    CHECK(r.load_file<codecs::Bytes>("raw.json")->data == "not json");
    CHECK(r.load_file<codecs::Bytes>("weights.pt")->data == png_bytes);
    CHECK(r.load_file<nlohmann::json>("good.json") == nlohmann::json{{"a", 1}});
    r.finish();

    // Saved before the record exists on disk: the type is kept all the same.
    Run& early = exp.run();
    early.save_file("early.bin", codecs::Bytes{"\x01"}, "application/x-early");
    early.finish();

    exp.commit("v1");
    content::OciLayout layout(dir / "storage");
    const auto sealed = SealedExperiment::open(layout, "v1");
    const auto run = sealed.run(0);
    CHECK(run.attachment_media_type("weights.pt") == "application/x-pytorch");
    CHECK(run.attachment_media_type("raw.json") == "application/octet-stream");
    CHECK(run.attachment_media_type("blob.weird") == "application/vnd.example.blob");
    CHECK(run.attachment_media_type("again.bin") == "application/octet-stream");
    CHECK(run.attachment_media_type("good.json") == "application/json");
    CHECK(sealed.run(1).attachment_media_type("early.bin") == "application/x-early");
    // A type sealrun has no codec for is a warning (strict: a failure) unless allowed.
    const auto lenient = validate(layout, "v1");
    CHECK(lenient.ok());
    CHECK(lenient.warnings() == 3);
    CHECK(validate(layout, "v1", {.strict = true, .codec_allow = {"application/x-pytorch", "application/vnd.example.blob",
                                                                  "application/x-early"}})
              .ok());
}

TEST_CASE("media types: validate --strict refuses a text/plain attachment holding binary") {
    content::MemoryTarget t;
    oci::ImageManifest m{.artifact_type = std::string(format::run_artifact_type)};
    const std::string bytes = png_bytes;
    auto layer = oci::Descriptor::for_bytes("text/plain", bytes);
    content::push_bytes(t, layer, bytes);
    layer.annotations.emplace(oci::annotations::title, "plot.txt");
    m.layers.push_back(layer);
    const auto config = oci::canonical_json(test::minimal_run_config({{"plot.txt", 0}}));
    m.config = oci::Descriptor::for_bytes(std::string(format::run_config_type), config);
    content::push_bytes(t, m.config, config);
    m.annotations = {{std::string(format::keys::run_id), "0"}, {std::string(format::keys::run_status), "finished"}};
    const auto manifest = m.serialize();
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), manifest);
    content::push_bytes(t, d, manifest);
    t.tag(d, "run");

    const auto lenient = validate(t, "run");
    INFO(to_text(lenient));
    CHECK(lenient.ok());
    CHECK(lenient.warnings() == 1);
    const auto strict = validate(t, "run", {.strict = true});
    INFO(to_text(strict));
    CHECK_FALSE(strict.ok());
    bool named = false;
    for (const auto& c : strict.checks)
        if (!c.passed && c.name == "codec" && contains(c.message, "not UTF-8 text") && contains(c.subject, "plot.txt")) named = true;
    CHECK(named);
}
