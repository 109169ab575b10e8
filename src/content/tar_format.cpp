#include "content/tar_format.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include <unistd.h>

#include "sealrun/oci/tag.h"
#include "sealrun/error.h"
#include "sealrun/path.h"

namespace sealrun::content::detail {

namespace {

using Block = std::array<char, tar_block>;

// The ustar header fields sealrun reads or writes: offset and length.
struct Field {
    std::size_t at, len;
};
constexpr Field f_name{0, 100}, f_mode{100, 8}, f_uid{108, 8}, f_gid{116, 8}, f_size{124, 12}, f_mtime{136, 12},
    f_chksum{148, 8}, f_magic{257, 8}, f_prefix{345, 155};
constexpr std::size_t f_type = 156;
constexpr std::string_view posix_magic{"ustar\0" "00", 8}, gnu_magic{"ustar  \0", 8};
// pax and GNU long-name records are read whole; a name or record set this
// large is no layout's.
constexpr std::uint64_t max_record = 1 << 20;

[[noreturn]] void refuse(std::string_view archive, std::string_view member, const std::string& why,
                         Errc code = Errc::invalid_input) {
    throw Error(code, "read archive", std::string(archive), (member.empty() ? "" : std::string(member) + ": ") + why);
}

std::string_view field(const Block& b, Field f) { return {b.data() + f.at, f.len}; }

// number reads a numeric header field: octal digits (leading spaces, ended
// by NUL or space) or GNU's base-256 (first byte 0x80). nullopt when it is
// neither or does not fit an int64.
std::optional<std::uint64_t> number(std::string_view f) {
    constexpr std::uint64_t max = INT64_MAX;
    std::uint64_t v = 0;
    if (!f.empty() && (static_cast<unsigned char>(f[0]) & 0x80) != 0) {
        if (static_cast<unsigned char>(f[0]) != 0x80) return std::nullopt;  // negative or too wide
        for (const char c : f.substr(1)) {
            if (v > (max >> 8)) return std::nullopt;
            v = (v << 8) | static_cast<unsigned char>(c);
        }
        return v;
    }
    std::size_t i = 0;
    while (i < f.size() && f[i] == ' ') ++i;
    for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i) {
        if (v > (max >> 3)) return std::nullopt;
        v = v * 8 + static_cast<std::uint64_t>(f[i] - '0');
    }
    if (i < f.size() && f[i] != '\0' && f[i] != ' ') return std::nullopt;
    return v;
}

// checksum_ok checks the header checksum, as unsigned (POSIX) or signed
// (historic writers) byte sums with the checksum field read as spaces.
bool checksum_ok(const Block& b) {
    const auto stored = number(field(b, f_chksum));
    if (!stored) return false;
    std::uint64_t u = 0;
    std::int64_t s = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const bool in_field = i >= f_chksum.at && i < f_chksum.at + f_chksum.len;
        u += in_field ? ' ' : static_cast<unsigned char>(b[i]);
        s += in_field ? ' ' : static_cast<signed char>(b[i]);
    }
    return *stored == u || static_cast<std::int64_t>(*stored) == s;
}

std::string_view c_string(std::string_view f) { return f.substr(0, std::min(f.find('\0'), f.size())); }

void read_at(int fd, char* out, std::uint64_t size, std::uint64_t offset, std::string_view archive) {
    for (std::uint64_t done = 0; done < size;) {
        const auto n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) refuse(archive, "", std::string("read failed: ") + std::strerror(errno), Errc::io);
        if (n == 0) refuse(archive, "", "ends inside a header");
        done += static_cast<std::uint64_t>(n);
    }
}

// compression names the compressed format `b` starts with, or is empty.
std::string_view compression(const Block& b) {
    const auto starts = [&](std::string_view magic) { return std::string_view(b.data(), magic.size()) == magic; };
    if (starts("\x1f\x8b")) return "gzip";
    if (starts("\x28\xb5\x2f\xfd")) return "zstd";
    if (starts({"\xfd" "7zXZ\0", 6})) return "xz";
    if (starts("BZh")) return "bzip2";
    if (starts("\x04\x22\x4d\x18")) return "lz4";
    return {};
}

// Pending is what pax and GNU long-name headers say about the next member.
struct Pending {
    std::optional<std::string> path;
    std::optional<std::uint64_t> size;
    bool sparse = false;
};

// parse_pax reads pax records ("LEN KEY=VALUE\n", LEN counting the whole
// record) into `p`; `global` records are checked but not kept.
void parse_pax(std::string_view data, Pending& p, bool global, std::string_view archive) {
    while (!data.empty()) {
        const auto space = data.find(' ');
        std::uint64_t len = 0;
        if (space == std::string_view::npos || space == 0 || space > 20) refuse(archive, "", "a pax record does not parse");
        for (const char c : data.substr(0, space)) {
            if (c < '0' || c > '9') refuse(archive, "", "a pax record does not parse");
            len = len * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (len <= space + 1 || len > data.size() || data[len - 1] != '\n') refuse(archive, "", "a pax record does not parse");
        const auto record = data.substr(space + 1, len - space - 2);
        data.remove_prefix(len);
        const auto eq = record.find('=');
        if (eq == std::string_view::npos) refuse(archive, "", "a pax record does not parse");
        const auto key = record.substr(0, eq), value = record.substr(eq + 1);
        if (key.starts_with("GNU.sparse.")) p.sparse = true;
        if (global) continue;
        if (key == "path") p.path = std::string(value);
        if (key == "size") {
            std::uint64_t v = 0;
            if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
                refuse(archive, "", "a pax size does not parse");
            for (const char c : value) v = v * 10 + static_cast<std::uint64_t>(c - '0');
            p.size = v;
        }
    }
}

// member_name is the name a header gives its member: a pax path or GNU long
// name, else ustar's prefix/name (the prefix only in POSIX ustar).
std::string member_name(const Block& b, const Pending& p, bool posix) {
    if (p.path) return *p.path;
    std::string name(c_string(field(b, f_name)));
    const auto prefix = c_string(field(b, f_prefix));
    if (posix && !prefix.empty()) name = std::string(prefix) + "/" + name;
    return name;
}

}  // namespace

bool is_layout_file(std::string_view rel) {
    if (rel == "oci-layout" || rel == "index.json") return true;
    if (!rel.starts_with("blobs/")) return false;
    const auto rest = rel.substr(6);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    const auto encoded = rest.substr(slash + 1);
    return encoded.find('/') == std::string_view::npos &&
           oci::is_digest_reference(std::string(rest.substr(0, slash)) + ":" + std::string(encoded));
}

std::string blob_name(std::string_view digest_text) {
    const auto colon = digest_text.find(':');
    return "blobs/" + std::string(digest_text.substr(0, colon)) + "/" + std::string(digest_text.substr(colon + 1));
}

TarIndex index_tar(int fd, std::uint64_t file_size, std::string_view name, std::size_t max_headers) {
    TarIndex index;
    Pending pending;
    for (std::uint64_t off = 0; off + tar_block <= file_size;) {
        Block b;
        read_at(fd, b.data(), tar_block, off, name);
        if (std::all_of(b.begin(), b.end(), [](char c) { return c == '\0'; })) return index;  // end of archive
        if (off == 0 && !compression(b).empty())
            refuse(name, "", "is compressed (" + std::string(compression(b)) +
                                 "); sealrun reads uncompressed oci-archives in place: decompress it first",
                   Errc::unsupported);
        const auto magic = field(b, f_magic);
        const bool posix = magic == posix_magic;
        if (!checksum_ok(b) || (!posix && magic != gnu_magic))
            refuse(name, "", "is not a tar archive (no valid ustar header at byte " + std::to_string(off) + ")");
        if (++index.headers > max_headers)
            refuse(name, "", "holds more than " + std::to_string(max_headers) + " members", Errc::too_large);
        const char type = b[f_type];
        const auto declared = number(field(b, f_size));
        if (!declared) refuse(name, c_string(field(b, f_name)), "its size field does not parse");
        const bool metadata = type == 'x' || type == 'g' || type == 'L' || type == 'K';
        const auto size = !metadata && pending.size ? *pending.size : *declared;
        const auto data = off + tar_block;
        const auto shown = metadata ? std::string(c_string(field(b, f_name))) : member_name(b, pending, posix);
        if (size > file_size - data)
            refuse(name, shown,
                   "is truncated: the member's " + std::to_string(size) + " bytes would start at byte " +
                       std::to_string(data) + ", but the file ends at byte " + std::to_string(file_size));
        off = data + size + tar_padding(size);
        if (metadata) {
            if (size > max_record) refuse(name, shown, "a pax or long-name header larger than 1 MiB");
            std::string record(size, '\0');
            read_at(fd, record.data(), size, data, name);
            if (type == 'x' || type == 'g') parse_pax(record, pending, type == 'g', name);
            if (type == 'L') pending.path = std::string(c_string(record));
            continue;
        }
        std::string rel;
        try {
            rel = safe_relative_path(shown);  // absolute names and '..' are refused
        } catch (const Error& e) {
            refuse(name, shown, e.reason());
        }
        if (type == 'S' || pending.sparse) refuse(name, rel, "sparse entries are refused");
        const bool file = type == '0' || type == '\0' || type == '7';
        if (!file && type != '5') refuse(name, rel, "an oci-archive holds only files and folders");
        pending = {};
        if (!file || !is_layout_file(rel)) continue;  // not part of a layout: never read
        if (!index.members.emplace(rel, TarMember{data, size}).second)
            refuse(name, rel, "appears twice (which one a reader takes would be ambiguous)");
    }
    return index;
}

namespace {

void put(Block& b, Field f, std::string_view s) { std::memcpy(b.data() + f.at, s.data(), std::min(s.size(), f.len)); }

// octal writes `v` as f.len - 1 zero-padded octal digits and a NUL.
void put_octal(Block& b, Field f, std::uint64_t v) {
    b[f.at + f.len - 1] = '\0';
    for (std::size_t i = f.len - 1; i-- > 0; v >>= 3) b[f.at + i] = static_cast<char>('0' + (v & 7));
}

std::string header(std::string_view name, std::uint64_t size, char type, unsigned mode) {
    Block b{};
    put(b, f_name, name);
    put_octal(b, f_mode, mode);
    put_octal(b, f_uid, 0);
    put_octal(b, f_gid, 0);
    put_octal(b, f_size, size);
    put_octal(b, f_mtime, 0);
    b[f_type] = type;
    put(b, f_magic, posix_magic);
    std::memset(b.data() + f_chksum.at, ' ', f_chksum.len);
    std::uint64_t sum = 0;
    for (const char c : b) sum += static_cast<unsigned char>(c);
    put_octal(b, {f_chksum.at, 7}, sum);  // six digits, a NUL, then the space already there
    return std::string(b.data(), b.size());
}

std::string pax_record(std::string_view key, std::string_view value) {
    const auto body = std::string(" ") + std::string(key) + "=" + std::string(value) + "\n";
    auto len = body.size() + 1;
    while (std::to_string(len).size() + body.size() != len) ++len;
    return std::to_string(len) + body;
}

}  // namespace

std::string tar_file_header(std::string_view name, std::uint64_t size) {
    constexpr std::uint64_t max_ustar_size = (std::uint64_t{1} << 33) - 1;  // 11 octal digits
    std::string pax;
    if (name.size() > f_name.len) pax += pax_record("path", name);
    if (size > max_ustar_size) pax += pax_record("size", std::to_string(size));
    std::string out;
    if (!pax.empty()) {
        out = header("PaxHeaders/" + std::string(name.substr(name.rfind('/') + 1)), pax.size(), 'x', 0644);
        out += pax + std::string(tar_padding(pax.size()), '\0');
    }
    return out + header(name, size > max_ustar_size ? 0 : size, '0', 0644);
}

std::string tar_dir_header(std::string_view name) { return header(name, 0, '5', 0755); }

}  // namespace sealrun::content::detail
