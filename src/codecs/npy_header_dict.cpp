// The NPY header's dict literal, read strictly (docs/FORMAT.md: the NumPy
// codec). Untrusted bytes: fuzz/npy.cpp drives it through NpyCodec.
#include <string>

#include "codecs/npy_detail.h"

namespace sealrun::codecs::npy_detail {

namespace {

class HeaderParser {
public:
    explicit HeaderParser(std::string_view s) : s_(s) {}

    std::map<std::string, Literal> dict() {
        std::map<std::string, Literal> out;
        expect('{');
        for (;;) {
            skip();
            if (peek() == '}') break;
            auto key = quoted();
            expect(':');
            if (!out.emplace(key, value()).second) bad("header repeats key '" + key + "'");
            skip();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            skip();
            if (peek() != '}') bad("header: expected ',' or '}'");
        }
        ++i_;
        skip();
        if (i_ != s_.size()) bad("header has trailing characters");
        return out;
    }

private:
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    void expect(char c) {
        skip();
        if (peek() != c) bad(std::string("header: expected '") + c + "'");
        ++i_;
    }
    std::string quoted() {
        skip();
        const char q = peek();
        if (q != '\'' && q != '"') bad("header: expected a quoted string");
        const auto end = s_.find(q, i_ + 1);
        if (end == std::string_view::npos) bad("header: unterminated string");
        std::string out(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
        return out;
    }
    Literal value() {
        skip();
        const char c = peek();
        if (c == '\'' || c == '"') return {Literal::string, quoted()};
        if (s_.substr(i_, 4) == "True") {
            i_ += 4;
            return {Literal::boolean, {}, true};
        }
        if (s_.substr(i_, 5) == "False") {
            i_ += 5;
            return {Literal::boolean, {}, false};
        }
        if (c == '[') {  // structured dtype: kept as text, not decoded
            const auto start = i_;
            int depth = 0;
            char quote = 0;
            for (; i_ < s_.size(); ++i_) {
                const char ch = s_[i_];
                if (quote != 0) {
                    if (ch == quote) quote = 0;
                } else if (ch == '\'' || ch == '"') {
                    quote = ch;
                } else if (ch == '[' || ch == '(') {
                    ++depth;
                } else if ((ch == ']' || ch == ')') && --depth == 0) {
                    ++i_;
                    return {Literal::list, std::string(s_.substr(start, i_ - start))};
                }
            }
            bad("header: unterminated list");
        }
        if (c != '(') bad("header: unexpected value");
        ++i_;
        Literal t{Literal::tuple};
        for (;;) {
            skip();
            if (peek() == ')') break;
            const auto start = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            if (i_ == start) bad("header: shape must hold non-negative integers");
            const auto digits = s_.substr(start, i_ - start);
            if (digits.size() > 19) bad("header: shape dimension too large");
            t.ints.push_back(std::stoull(std::string(digits)));
            if (peek() == 'L') ++i_;  // Python 2 long
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != ')') bad("header: expected ',' or ')' in shape");
        }
        ++i_;
        return t;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::map<std::string, Literal> parse_header_dict(std::string_view text) { return HeaderParser(text).dict(); }

}  // namespace sealrun::codecs::npy_detail
