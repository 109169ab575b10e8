#pragma once
// ViewStream: a ReadStream over bytes it does not own (the caller keeps them
// alive while it is read).

#include <algorithm>
#include <cstring>
#include <span>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun::content {

class ViewStream final : public ReadStream {
public:
    explicit ViewStream(std::string_view bytes) : bytes_(bytes) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = std::min(buffer.size(), bytes_.size());
        std::memcpy(buffer.data(), bytes_.data(), n);
        bytes_.remove_prefix(n);
        return n;
    }

private:
    std::string_view bytes_;
};

}  // namespace sealrun::content
