// codecs/zstd.h: the in-memory and streaming forms write the same frame, and
// the streaming decompressor reads what either wrote.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>

#include <unistd.h>

#include "sealrun/codecs/zstd.h"
#include "support/expect.h"

using namespace sealrun;

namespace {

// compressed_stream returns what zstd_compress_stream writes for `bytes`,
// through a real file descriptor (an unnamed temporary file).
std::string compressed_stream(const std::string& bytes) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::tmpfile(), &std::fclose);
    REQUIRE(file);
    content::BytesStream in(bytes);
    zstd_compress_stream(in, fileno(file.get()), "test");
    std::string out;
    char buf[65536];
    for (off_t at = 0;;) {
        const auto n = ::pread(fileno(file.get()), buf, sizeof buf, at);
        REQUIRE(n >= 0);
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
    return out;
}

}  // namespace

TEST_CASE("zstd: sealing a file and encoding a value give the same frame") {
    std::string big;
    for (int i = 0; i < 300000; ++i) big += std::to_string(i) + ",";  // several MiB: many stream chunks
    for (const auto& bytes : {std::string(), std::string("x"), big}) {
        CAPTURE(bytes.size());
        const auto streamed = compressed_stream(bytes);
        CHECK(streamed == zstd_compress(bytes));
        CHECK(zstd_decompress(streamed, bytes.size() + 1) == bytes);
        content::BytesStream in(streamed);
        ZstdReadStream z(in);
        CHECK(content::read_to_string(z, bytes.size() + 1, "test") == bytes);
        CHECK(z.produced() == bytes.size());
    }
}

TEST_CASE("zstd: a failing input stream is reported, not a short frame") {
    struct Failing final : content::ReadStream {
        std::size_t read(std::span<std::byte>) override { throw Error(Errc::io, "read", "input", "disk gone"); }
    };
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::tmpfile(), &std::fclose);
    REQUIRE(file);
    Failing in;
    CHECK(test::errc_of([&] { zstd_compress_stream(in, fileno(file.get()), "input"); }) == Errc::io);
}
