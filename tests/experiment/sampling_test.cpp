// Placeholder: filled by the OMMX work of issue 14.
#include <doctest/doctest.h>
