#pragma once
// The bounded queue of body bytes between the transport's engine thread and
// a caller's thread, one per transfer: a download's received bytes on their
// way to the reader, or an upload's bytes on their way to curl. Drained
// blocks are kept and reused; a new one is allocated only when none is
// spare, so the blocks alive never outnumber the most ever in flight at
// once. Not synchronised: its transfer's mutex guards it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace sealrun::remote::detail {

// Bytes queued between the engine and a caller, per transfer: enough to
// keep both sides busy, small enough that memory does not grow with a blob.
inline constexpr std::size_t download_queue = 8 << 20;
inline constexpr std::size_t download_block = 1 << 20;
inline constexpr std::size_t upload_queue = 4 << 20;
inline constexpr std::size_t upload_block = 256 << 10;

class BodyQueue {
public:
    using Block = std::vector<std::byte>;

    // BodyQueue keeps at most `spare_limit` bytes of drained blocks (a full
    // queue's worth: this costs no extra memory) and counts every block it
    // allocates in `*allocations`.
    BodyQueue(std::size_t spare_limit, std::atomic<std::int64_t>* allocations)
        : spare_limit_(spare_limit), allocations_(allocations) {}

    // held is the number of bytes queued.
    std::size_t held() const { return held_; }
    bool empty() const { return blocks_.empty(); }

    // append copies `bytes` to the back, coalescing them into blocks of at
    // least `block` bytes (a download: the reader gets large reads).
    void append(std::span<const std::byte> bytes, std::size_t block);
    // push queues a whole block (an upload's, filled by the caller).
    void push(Block block);
    // pop takes the front block (a download's reader).
    Block pop();
    // copy_out moves up to `out.size()` bytes from the front into `out`
    // and returns how many (an upload's engine side).
    std::size_t copy_out(std::span<std::byte> out);

    // take_spare returns a block of `size` bytes with room for `capacity`,
    // reusing a drained one when it can.
    Block take_spare(std::size_t size, std::size_t capacity);
    // give_back keeps a drained block for reuse, up to the spare limit.
    void give_back(Block block);

private:
    std::deque<Block> blocks_;  // bytes in flight, either direction
    std::vector<Block> spare_;  // drained blocks, reused
    std::size_t spare_bytes_ = 0;  // capacity held in spare_
    std::size_t spare_limit_;
    std::size_t held_ = 0;       // bytes in blocks_
    std::size_t front_pos_ = 0;  // copy_out's position in blocks_.front()
    std::atomic<std::int64_t>* allocations_;
};

}  // namespace sealrun::remote::detail
