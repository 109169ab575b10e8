#include "sealrun/oci/json.h"

#include <cstring>
#include <istream>
#include <limits>
#include <streambuf>
#include <unordered_set>
#include <vector>

#include "sealrun/error.h"

namespace sealrun::oci {

std::string canonical_json(const nlohmann::json& value) {
    try {
        // nlohmann's default object type is a std::map, so keys come out
        // sorted bytewise; dump() without indent adds no whitespace.
        return value.dump();
    } catch (const nlohmann::json::exception& e) {
        throw Error(Errc::invalid_input, "write json", "", e.what());
    }
}

namespace {

// WindowBuf exposes a ByteSource to nlohmann's stream adapter through a
// 64 KiB window. With `lines`, a '\n' ends the stream until next_line().
// Before bytes are exposed it scans them for tokens (a string, or a run of
// non-structural bytes outside strings: numbers, literals) longer than
// max_token, and ends the stream there, so the parser never buffers one.
class WindowBuf final : public std::streambuf {
public:
    WindowBuf(const ByteSource& source, bool lines, std::size_t max_token)
        : source_(source), lines_(lines), max_token_(max_token), buf_(64 * 1024) {}

    bool too_long() const noexcept { return too_long_; }

    // next_line moves past the '\n' that ended the current line; false at
    // the end of the input.
    bool next_line() {
        while (gptr() < egptr() || !at_line_end_) {  // the parser stopped early: skip the rest of the line
            if (gptr() < egptr()) setg(eback(), egptr(), egptr());
            else if (underflow() == traits_type::eof() && !at_line_end_) return false;
        }
        at_line_end_ = false;
        ++pos_;  // the '\n'
        in_string_ = escaped_ = false;
        run_ = 0;
        return fill() || pos_ < end_;
    }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (too_long_ || at_line_end_) return traits_type::eof();
        if (pos_ >= end_ && !fill()) return traits_type::eof();
        std::size_t limit = end_;
        if (lines_) {
            if (const void* nl = std::memchr(buf_.data() + pos_, '\n', end_ - pos_)) {
                limit = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
                at_line_end_ = true;
            }
        }
        limit = scan(pos_, limit);
        setg(buf_.data() + pos_, buf_.data() + pos_, buf_.data() + limit);
        pos_ = limit;
        if (gptr() == egptr()) return traits_type::eof();
        return traits_type::to_int_type(*gptr());
    }

private:
    bool fill() {
        if (pos_ < end_) return true;
        if (eof_) return false;
        pos_ = 0;
        end_ = source_(buf_);
        if (end_ == 0) eof_ = true;
        return end_ != 0;
    }

    // scan returns where the exposed bytes must end: `to`, or the byte at
    // which a token grows past max_token.
    std::size_t scan(std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
            const char c = buf_[i];
            if (in_string_) {
                if (escaped_) escaped_ = false;
                else if (c == '\\') escaped_ = true;
                else if (c == '"') in_string_ = false;
            } else if (c == '"') {
                in_string_ = true;
                run_ = 0;
            } else if (std::strchr("{}[],: \t\r\n", c) != nullptr || c == '\0') {
                run_ = 0;
                continue;
            }
            if (++run_ > max_token_) {
                too_long_ = true;
                at_line_end_ = false;
                return i;
            }
            if (!in_string_ && c == '"') run_ = 0;  // a string's closing quote
        }
        return to;
    }

    const ByteSource& source_;
    bool lines_;
    std::size_t max_token_;
    std::vector<char> buf_;
    std::size_t pos_ = 0, end_ = 0;
    bool eof_ = false, at_line_end_ = false, too_long_ = false;
    bool in_string_ = false, escaped_ = false;
    std::size_t run_ = 0;
};

// StrictSax is the one place of the strict reader's rules, applied to SAX
// events: no duplicate key in any object (reported with its path), nesting
// at most max_json_depth; nlohmann's grammar, UTF-8 checks and strict mode
// (exactly one value) do the rest. It remembers keys only within a byte
// budget and at most a bounded name per level. check_json_strict runs it
// alone; parse_json_strict builds the document beside it (StrictDomSax).
class StrictSax {
public:
    StrictSax(std::string_view what, const JsonStreamLimits& limits) : what_(what), limits_(limits) {}

    bool null() { return value(); }
    bool boolean(bool) { return value(); }
    bool number_integer(nlohmann::json::number_integer_t) { return value(); }
    bool number_unsigned(nlohmann::json::number_unsigned_t) { return value(); }
    bool number_float(nlohmann::json::number_float_t, const std::string&) { return value(); }
    bool string(std::string&) { return value(); }
    bool binary(nlohmann::json::binary_t&) { return value(); }
    bool start_object(std::size_t) { return open(true); }
    bool start_array(std::size_t) { return open(false); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(std::string& k) {
        auto& top = stack_.back();
        constexpr std::size_t shown = 256;
        pending_key_.assign(k, 0, std::min(k.size(), shown));
        if (top.keys.contains(k)) {
            duplicate_path_ = path_to(pending_key_);
            return false;
        }
        if (tracked_ + k.size() + per_key_overhead > limits_.max_tracked_keys) {
            keys_partial_ = true;
        } else {
            tracked_ += k.size() + per_key_overhead;
            top.keys.insert(k);
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        constexpr std::size_t shown = 512;  // the message quotes the last token, which may be long
        syntax_error_ = e.what();
        if (syntax_error_.size() > shown) syntax_error_.resize(shown), syntax_error_ += "…";
        return false;
    }

    void reset() {
        stack_.clear();
        tracked_ = 0;
    }
    // refusal says why the parse stopped for a rule (a duplicate key, too
    // deep), or is empty: then it stopped on syntax_error(), or a stream
    // window's end.
    std::string refusal() const {
        if (!duplicate_path_.empty()) return duplicate_path_ + ": duplicate key";
        if (too_deep_) return "JSON nests deeper than " + std::to_string(max_json_depth) + " levels";
        return {};
    }
    const std::string& syntax_error() const { return syntax_error_; }
    bool keys_partial() const { return keys_partial_; }

private:
    static constexpr std::size_t per_key_overhead = 64;
    struct Frame {
        std::unordered_set<std::string> keys;
        std::string name;
        bool is_object;
        bool is_element = false;
        std::size_t next_index = 0;
        std::size_t tracked = 0;  // tracked_ when the frame opened
    };

    bool value() {
        if (!stack_.empty() && !stack_.back().is_object) ++stack_.back().next_index;
        return true;
    }
    bool open(bool is_object) {
        if (stack_.size() >= max_json_depth) {
            too_deep_ = true;
            return false;
        }
        Frame f{{}, {}, is_object};
        f.tracked = tracked_;
        if (!stack_.empty()) {
            Frame& top = stack_.back();
            f.is_element = !top.is_object;
            f.name = top.is_object ? pending_key_ : std::to_string(top.next_index++);
        }
        stack_.push_back(std::move(f));
        return true;
    }
    bool close() {
        if (!stack_.empty()) {
            tracked_ = stack_.back().tracked;
            stack_.pop_back();
        }
        return true;
    }
    std::string path_to(const std::string& key) const {
        std::string path;
        for (std::size_t i = 1; i < stack_.size(); ++i) {
            if (stack_[i].is_element) {
                path += "[" + stack_[i].name + "]";
            } else {
                if (!path.empty()) path += '.';
                path += stack_[i].name;
            }
        }
        return path.empty() ? key : path + "." + key;
    }

    std::string_view what_;
    const JsonStreamLimits& limits_;
    std::vector<Frame> stack_;
    std::string pending_key_;
    std::size_t tracked_ = 0;
    bool keys_partial_ = false;
    bool too_deep_ = false;
    std::string duplicate_path_;
    std::string syntax_error_;
};

// blank_line skips the spaces and tabs starting a line and reports whether
// nothing else (but one '\r') is on it.
bool blank_line(std::streambuf& sb) {
    using T = std::streambuf::traits_type;
    auto c = sb.sgetc();
    while (c == ' ' || c == '\t') c = sb.snextc();
    if (c == '\r') c = sb.snextc();
    return c == T::eof();
}

// StrictDomSax builds the document while StrictSax checks it, in one
// linear pass. (nlohmann's callback parser, the other way to check while
// parsing, scans the enclosing array for discarded values at every
// object's end: an array of n objects cost n², an index of 10,000 runs
// seconds.) Keys are tracked without a budget: the document is held whole
// anyway.
class StrictDomSax {
public:
    StrictDomSax(std::string_view what, nlohmann::json& root) : check_(what, unlimited), root_(root) {}
    // With `split`, the elements of the top-level array `split` go to
    // `element` one by one (parse_json_strict_split).
    StrictDomSax(std::string_view what, nlohmann::json& root, std::string_view split, const JsonElement* element)
        : check_(what, unlimited), root_(root), split_(split), element_(element) {}

    bool null() { return check_.null() && put(nullptr); }
    bool boolean(bool v) { return check_.boolean(v) && put(v); }
    bool number_integer(nlohmann::json::number_integer_t v) { return check_.number_integer(v) && put(v); }
    bool number_unsigned(nlohmann::json::number_unsigned_t v) { return check_.number_unsigned(v) && put(v); }
    bool number_float(nlohmann::json::number_float_t v, const std::string& s) {
        return check_.number_float(v, s) && put(v);
    }
    bool string(std::string& s) { return check_.string(s) && put(std::move(s)); }
    bool binary(nlohmann::json::binary_t& b) { return check_.binary(b) && put(nlohmann::json::binary(std::move(b))); }
    bool start_object(std::size_t n) { return check_.start_object(n) && open(nlohmann::json::value_t::object); }
    bool start_array(std::size_t n) { return check_.start_array(n) && open(nlohmann::json::value_t::array); }
    bool end_object() { return close() && check_.end_object(); }
    bool end_array() { return close() && check_.end_array(); }
    bool key(std::string& k) {
        if (!check_.key(k)) return false;
        splitting_next_ = element_ != nullptr && open_.size() == 1 && open_.back() == &root_ && k == split_;
        slot_ = &(*open_.back())[std::move(k)];
        return true;
    }
    bool parse_error(std::size_t at, const std::string& token, const nlohmann::detail::exception& e) {
        return check_.parse_error(at, token, e);
    }

    const StrictSax& check() const { return check_; }

private:
    static constexpr JsonStreamLimits unlimited{.max_token = std::numeric_limits<std::size_t>::max(),
                                                .max_tracked_keys = std::numeric_limits<std::size_t>::max()};

    // place stores a new value where the parser is: the root, the end of
    // the open array, or the open object's slot for the last key.
    // An element of the split array is placed in `element_tree_`
    // instead, and handed over once complete.
    template <class T>
    nlohmann::json* place(T&& v) {
        if (open_.empty()) {
            root_ = nlohmann::json(std::forward<T>(v));
            return &root_;
        }
        if (auto& top = *open_.back(); &top == split_array_) {
            element_tree_ = nlohmann::json(std::forward<T>(v));
            return &element_tree_;
        } else if (top.is_array()) {
            top.emplace_back(std::forward<T>(v));
            return &top.back();
        }
        *slot_ = nlohmann::json(std::forward<T>(v));
        return slot_;
    }
    template <class T>
    bool put(T&& v) {
        if (place(std::forward<T>(v)) == &element_tree_) hand_over();
        return true;
    }
    bool open(nlohmann::json::value_t type) {
        const bool split = splitting_next_ && type == nlohmann::json::value_t::array;
        splitting_next_ = false;
        open_.push_back(place(type));
        if (split) split_array_ = open_.back();
        return true;
    }
    bool close() {
        if (open_.empty()) return true;
        const auto* closed = open_.back();
        open_.pop_back();
        if (closed == &element_tree_) hand_over();
        if (closed == split_array_) split_array_ = nullptr;
        return true;
    }
    void hand_over() {
        (*element_)(std::move(element_tree_), handed_++);
        element_tree_ = nullptr;
    }

    StrictSax check_;
    nlohmann::json& root_;
    std::vector<nlohmann::json*> open_;  // the arrays and objects being filled; their parents do not move them
    nlohmann::json* slot_ = nullptr;
    std::string_view split_;
    const JsonElement* element_ = nullptr;
    bool splitting_next_ = false;              // the last key was `split_`, at the top level
    nlohmann::json* split_array_ = nullptr;    // the split array while it is open
    nlohmann::json element_tree_;              // the element being read
    std::size_t handed_ = 0;
};

// parse_strict runs `sax` over `text` under parse_json_strict's rules.
void parse_strict(std::string_view text, std::string_view what, std::size_t max_size, StrictDomSax& sax) {
    if (text.size() > max_size)
        throw Error(Errc::too_large, "parse", std::string(what),
                    std::to_string(text.size()) + " bytes exceed the limit of " + std::to_string(max_size));
    bool ok = false;
    try {
        ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json, true);
    } catch (const nlohmann::json::exception& e) {
        throw Error(Errc::invalid_input, "parse", std::string(what), std::string("malformed JSON: ") + e.what());
    }
    if (ok) return;
    auto why = sax.check().refusal();
    if (why.empty()) why = "malformed JSON: " + sax.check().syntax_error();  // also a number like 1e999
    throw Error(Errc::invalid_input, "parse", std::string(what), why);
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, std::string_view what, std::size_t max_size) {
    nlohmann::json result;
    StrictDomSax sax(what, result);
    parse_strict(text, what, max_size, sax);
    return result;
}

nlohmann::json parse_json_strict_split(std::string_view text, std::string_view what, std::string_view array_key,
                                       const JsonElement& element, std::size_t max_size) {
    nlohmann::json result;
    StrictDomSax sax(what, result, array_key, &element);
    parse_strict(text, what, max_size, sax);
    return result;
}

std::string check_json_strict(const ByteSource& source, std::string_view what, bool lines,
                              const JsonStreamLimits& limits) {
    WindowBuf buf(source, lines, limits.max_token);
    std::istream in(&buf);
    StrictSax sax(what, limits);
    std::size_t line_no = 0;
    const auto fail = [&](const std::string& reason) {
        throw Error(Errc::invalid_input, "parse", std::string(what),
                    lines ? "line " + std::to_string(line_no) + ": " + reason : reason);
    };
    const auto too_long = [&] {
        return "not checked past " + (lines ? "line " + std::to_string(line_no) + ", a" : std::string("a")) +
               " string or number longer than " + std::to_string(limits.max_token) + " bytes";
    };
    for (bool more = true; more; more = lines && buf.next_line()) {
        ++line_no;
        if (lines && blank_line(buf)) continue;
        in.clear();
        sax.reset();
        if (nlohmann::json::sax_parse(in, &sax, nlohmann::json::input_format_t::json, true)) continue;
        if (const auto why = sax.refusal(); !why.empty()) fail(why);
        if (buf.too_long()) return too_long();
        fail("malformed JSON: " + sax.syntax_error());
    }
    if (sax.keys_partial())
        return "duplicate keys checked only among the first " + std::to_string(limits.max_tracked_keys) +
               " bytes of keys of each nest of objects";
    return {};
}

}  // namespace sealrun::oci
