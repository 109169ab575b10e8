#pragma once
// Test support: heap accounting. Include it in exactly one source file of a
// test binary: it replaces that binary's operator new and delete. While
// `heap::counting` is set, every operator new and delete (each goes through
// malloc) moves `live`, and `peak` keeps its highest value. Not in a
// sanitizer build, whose runtime owns operator new (SEALRUN_COUNT_HEAP is
// then left undefined and tests say so).

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <malloc.h>

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define SEALRUN_COUNT_HEAP 1
namespace heap {
std::atomic<bool> counting{false};
std::atomic<std::int64_t> live{0}, peak{0};
void add(void* p) {
    if (p == nullptr || !counting) return;
    const auto now = live += static_cast<std::int64_t>(malloc_usable_size(p));
    auto high = peak.load();
    while (now > high && !peak.compare_exchange_weak(high, now)) {
    }
}
void sub(void* p) {
    if (p != nullptr && counting) live -= static_cast<std::int64_t>(malloc_usable_size(p));
}
void* allocate(std::size_t n) {
    void* p = std::malloc(n == 0 ? 1 : n);
    if (p == nullptr) throw std::bad_alloc();
    add(p);
    return p;
}
}  // namespace heap
void* operator new(std::size_t n) { return heap::allocate(n); }
void* operator new[](std::size_t n) { return heap::allocate(n); }
void operator delete(void* p) noexcept { heap::sub(p), std::free(p); }
void operator delete[](void* p) noexcept { heap::sub(p), std::free(p); }
void operator delete(void* p, std::size_t) noexcept { heap::sub(p), std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { heap::sub(p), std::free(p); }
#endif
