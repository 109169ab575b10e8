#pragma once
// FileStream: a ReadStream over one file, read from its start.

#include <filesystem>
#include <utility>

#include "sealrun/content/stream.h"
#include "util/fs.h"

namespace sealrun::util {

class FileStream final : public content::ReadStream {
public:
    explicit FileStream(const std::filesystem::path& path) : FileStream(open_read(path), path) {}
    FileStream(Fd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
    std::size_t read(std::span<std::byte> buffer) override { return read_some(fd_.get(), buffer, path_); }

private:
    Fd fd_;
    std::filesystem::path path_;
};

}  // namespace sealrun::util
