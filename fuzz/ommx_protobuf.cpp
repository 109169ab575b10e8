// Placeholder fuzz target (issue 14); the real one replaces it.
#include "common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)data;
    (void)size;
    return 0;
}
