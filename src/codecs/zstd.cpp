// zstd (sealrun/codecs/zstd.h): libarchive's zstd filter under the raw
// format, one frame per attachment, written and read the same way wherever
// sealrun compresses (encode_value, commit()) or decompresses.
#include "sealrun/codecs/zstd.h"

#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "sealrun/error.h"
#include "content/view_stream.h"
#include "util/archive.h"

namespace sealrun {

namespace {

// zstd_writer returns a raw-format libarchive writer with the zstd filter,
// its one entry's header to be written once the writer is open.
util::ArchiveWrite zstd_writer(std::string_view what) {
    util::ArchiveWrite a(archive_write_new());
    util::check(a.get(), archive_write_set_format_raw(a.get()), "compress", what);
    util::check(a.get(), archive_write_add_filter_zstd(a.get()), "compress", what);
    return a;
}

void write_zstd_header(archive* a, std::string_view what) {
    util::ArchiveEntry entry(archive_entry_new());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_pathname(entry.get(), "data");
    util::check(a, archive_write_header(a, entry.get()), "compress", what);
}

constexpr std::string_view zstd_frame_magic = "\x28\xb5\x2f\xfd";
constexpr std::size_t zstd_input_block = 256 * 1024;

}  // namespace

std::string zstd_compress(std::string_view bytes) {
    auto a = zstd_writer("zstd");
    util::StringSink sink;
    util::open_string_sink(a.get(), sink, "zstd");
    write_zstd_header(a.get(), "zstd");
    if (!bytes.empty() && archive_write_data(a.get(), bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
        util::throw_archive(a.get(), "compress", "zstd", Errc::io);
    util::check(a.get(), archive_write_close(a.get()), "compress", "zstd");
    return std::move(sink.out);
}

void zstd_compress_stream(content::ReadStream& in, int fd, std::string_view what) {
    auto a = zstd_writer(what);
    util::check(a.get(), archive_write_set_bytes_per_block(a.get(), 0), "compress", what);
    util::check(a.get(), archive_write_open_fd(a.get(), fd), "compress", what);
    write_zstd_header(a.get(), what);
    std::vector<std::byte> buf(content::default_chunk_size);
    while (const auto n = in.read(buf))
        if (archive_write_data(a.get(), buf.data(), n) != static_cast<la_ssize_t>(n))
            util::throw_archive(a.get(), "compress", what, Errc::io);
    util::check(a.get(), archive_write_close(a.get()), "compress", what);
}

// ZstdReadStream drives libarchive's zstd filter (raw format) over a read
// callback that pulls from the inner stream. An exception from the inner
// stream is kept and rethrown once libarchive has unwound.
struct ZstdReadStream::Impl {
    std::unique_ptr<content::ReadStream> owned;
    content::ReadStream* inner = nullptr;
    std::size_t max_size = SIZE_MAX;
    util::ArchiveRead a{nullptr};
    std::vector<std::byte> in_buf = std::vector<std::byte>(zstd_input_block);
    std::size_t primed = 0;  // bytes of in_buf read ahead to check the frame magic
    std::exception_ptr inner_error;
    std::uint64_t produced = 0;
    bool started = false;
    bool done = false;

    static la_ssize_t on_read(archive*, void* self, const void** out) {
        auto* s = static_cast<Impl*>(self);
        *out = s->in_buf.data();
        if (s->primed != 0) return static_cast<la_ssize_t>(std::exchange(s->primed, 0));
        try {
            return static_cast<la_ssize_t>(s->inner->read(s->in_buf));
        } catch (...) {
            s->inner_error = std::current_exception();
            return ARCHIVE_FATAL;
        }
    }

    [[noreturn]] void fail() {
        if (inner_error) std::rethrow_exception(inner_error);
        util::throw_archive(a.get(), "decompress", "zstd");
    }

    // start demands the frame magic (libarchive's raw reader would pass any
    // other input through unchanged), then opens the reader.
    bool start() {
        started = true;
        primed = content::read_fully(*inner, std::span(in_buf).first(zstd_frame_magic.size()));
        if (primed < zstd_frame_magic.size() ||
            std::memcmp(in_buf.data(), zstd_frame_magic.data(), zstd_frame_magic.size()) != 0)
            throw Error(Errc::invalid_input, "decompress", "zstd", "not a zstd frame");
        a.reset(archive_read_new());
        util::check(a.get(), archive_read_support_filter_zstd(a.get()), "decompress", "zstd");
        util::check(a.get(), archive_read_support_format_raw(a.get()), "decompress", "zstd");
        util::check(a.get(), archive_read_support_format_empty(a.get()), "decompress", "zstd");  // a frame of zero bytes
        if (archive_read_open(a.get(), this, nullptr, &Impl::on_read, nullptr) != ARCHIVE_OK) fail();
        archive_entry* entry = nullptr;
        const int rc = archive_read_next_header(a.get(), &entry);
        if (rc == ARCHIVE_EOF) return false;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail();
        return true;
    }

    // finish reads what libarchive left of the input, so the inner stream
    // (a verifying one) reaches its end and checks it.
    void finish() {
        done = true;
        content::drain(*inner);
    }
};

ZstdReadStream::ZstdReadStream(content::ReadStream& inner, std::size_t max_size) : impl_(std::make_unique<Impl>()) {
    impl_->inner = &inner;
    impl_->max_size = max_size;
}

ZstdReadStream::ZstdReadStream(std::unique_ptr<content::ReadStream> inner, std::size_t max_size)
    : impl_(std::make_unique<Impl>()) {
    impl_->owned = std::move(inner);
    impl_->inner = impl_->owned.get();
    impl_->max_size = max_size;
}

ZstdReadStream::~ZstdReadStream() = default;

std::uint64_t ZstdReadStream::produced() const noexcept { return impl_->produced; }

std::size_t ZstdReadStream::read(std::span<std::byte> buffer) {
    auto& s = *impl_;
    if (s.done || buffer.empty()) return 0;
    if (!s.started && !s.start()) {
        s.finish();
        return 0;
    }
    const auto n = archive_read_data(s.a.get(), buffer.data(), buffer.size());
    if (n < 0) s.fail();
    if (n == 0) {
        s.finish();
        return 0;
    }
    s.produced += static_cast<std::uint64_t>(n);
    if (s.produced > s.max_size)
        throw Error(Errc::too_large, "decompress", "zstd", "output exceeds " + std::to_string(s.max_size) + " bytes");
    return static_cast<std::size_t>(n);
}

std::string zstd_decompress(std::string_view bytes, std::size_t max_size) {
    content::ViewStream in(bytes);
    ZstdReadStream z(in, max_size);
    return content::read_to_string(z, max_size, "zstd");
}

}  // namespace sealrun
