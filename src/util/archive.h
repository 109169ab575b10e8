#pragma once
// libarchive handles and the one place libarchive errors become sealrun::Error.

#include <string>
#include <string_view>

#include <archive.h>
#include <archive_entry.h>

#include "sealrun/error.h"
#include "util/handle.h"

namespace sealrun::util {

using ArchiveRead = Handle<archive, archive_read_free>;
using ArchiveWrite = Handle<archive, archive_write_free>;
using ArchiveEntry = Handle<archive_entry, archive_entry_free>;

[[noreturn]] inline void throw_archive(archive* a, std::string_view op, std::string_view subject, Errc code = Errc::invalid_input) {
    const char* msg = a != nullptr ? archive_error_string(a) : nullptr;
    throw Error(code, std::string(op), std::string(subject), msg != nullptr ? msg : "libarchive failure");
}

// check throws unless rc is ARCHIVE_OK (or ARCHIVE_WARN, which libarchive
// uses for recoverable oddities).
inline void check(archive* a, int rc, std::string_view op, std::string_view subject) {
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) throw_archive(a, op, subject);
}

// StringSink is an archive_write_open callback target appending to a string.
struct StringSink {
    std::string out;
    static la_ssize_t write(archive*, void* self, const void* buf, size_t n) {
        static_cast<StringSink*>(self)->out.append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
    }
};

// open_string_sink opens `a` into `sink` without libarchive's padding of
// the output to 10 KiB blocks.
inline void open_string_sink(archive* a, StringSink& sink, std::string_view what) {
    check(a, archive_write_set_bytes_per_block(a, 0), "open archive writer", what);
    check(a, archive_write_set_bytes_in_last_block(a, 1), "open archive writer", what);
    check(a, archive_write_open(a, &sink, nullptr, &StringSink::write, nullptr), "open archive writer", what);
}

}  // namespace sealrun::util
