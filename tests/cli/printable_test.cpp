#include <doctest/doctest.h>

#include "sealrun/printable.h"

using sealrun::printable;

TEST_CASE("printable: controls, C1, bidi overrides and broken UTF-8 are escaped, the rest passes") {
    CHECK(printable("plain name/ok.json") == "plain name/ok.json");
    CHECK(printable("\x1b[2J\nrow\t\x7f") == "\\x1b[2J\\x0arow\\x09\\x7f");
    CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK(printable("\xc2\x9b" "2J") == "\\u009b2J");                     // C1 CSI
    CHECK(printable("a\xe2\x80\xae" "b\xe2\x81\xa6") == "a\\u202eb\\u2066");  // bidi override, isolate
    CHECK(printable("\x9b" "2J") == "\\x9b2J");                            // a lone continuation byte
    CHECK(printable("\xc0\xaf \xed\xa0\x80 \xe2\x82") == "\\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");  // overlong, surrogate, cut
    CHECK(printable(std::string_view("a\0b", 3)) == "a\\x00b");
}
