#include "remote/body_queue.h"

#include <algorithm>
#include <cstring>

namespace sealrun::remote::detail {

void BodyQueue::append(std::span<const std::byte> bytes, std::size_t block) {
    if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < bytes.size())
        blocks_.push_back(take_spare(0, std::max(bytes.size(), block)));
    auto& back = blocks_.back();
    back.insert(back.end(), bytes.begin(), bytes.end());
    held_ += bytes.size();
}

void BodyQueue::push(Block block) {
    held_ += block.size();
    blocks_.push_back(std::move(block));
}

BodyQueue::Block BodyQueue::pop() {
    auto b = std::move(blocks_.front());
    blocks_.pop_front();
    held_ -= b.size();
    return b;
}

std::size_t BodyQueue::copy_out(std::span<std::byte> out) {
    std::size_t k = 0;
    while (k < out.size() && !blocks_.empty()) {
        auto& front = blocks_.front();
        const auto m = std::min(out.size() - k, front.size() - front_pos_);
        std::memcpy(out.data() + k, front.data() + front_pos_, m);
        k += m;
        front_pos_ += m;
        held_ -= m;
        if (front_pos_ == front.size()) {
            give_back(std::move(front));
            blocks_.pop_front();
            front_pos_ = 0;
        }
    }
    return k;
}

BodyQueue::Block BodyQueue::take_spare(std::size_t size, std::size_t capacity) {
    Block b;
    if (!spare_.empty()) {
        b = std::move(spare_.back());
        spare_.pop_back();
        spare_bytes_ -= b.capacity();
    }
    if (b.capacity() < capacity) {
        ++*allocations_;
        b.reserve(capacity);
    }
    b.resize(size);
    return b;
}

void BodyQueue::give_back(Block b) {
    if (b.capacity() == 0 || spare_bytes_ + b.capacity() > spare_limit_) return;
    spare_bytes_ += b.capacity();
    spare_.push_back(std::move(b));
}

}  // namespace sealrun::remote::detail
