#pragma once
// FileStream: a ReadStream over one file, read from its start. It adapts
// util's plain descriptor reader (util::Fd, util::read_some) to the content
// layer's stream interface, so util stays below content.

#include <filesystem>
#include <utility>

#include "sealrun/content/stream.h"
#include "util/fs.h"

namespace sealrun::content {

class FileStream final : public ReadStream {
public:
    explicit FileStream(const std::filesystem::path& path) : FileStream(util::open_read(path), path) {}
    FileStream(util::Fd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
    std::size_t read(std::span<std::byte> buffer) override { return util::read_some(fd_.get(), buffer, path_); }

private:
    util::Fd fd_;
    std::filesystem::path path_;
};

}  // namespace sealrun::content
