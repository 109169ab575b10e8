// OMMX payloads on the wire: the checked parse, deterministic encoding,
// protobuf's JSON mapping, and what every payload type shares (Payload).
#include <climits>
#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

#include "codecs/ommx_message.h"
#include "sealrun/error.h"
#include "util/utf8.h"

namespace sealrun::ommx {

namespace detail {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

enum WireType { varint = 0, i64 = 1, len = 2, start_group = 3, end_group = 4, i32 = 5 };

// expected_wire_type is the wire type the schema gives `field` (unpacked).
int expected_wire_type(const FieldDescriptor& field) {
    switch (field.type()) {
        case FieldDescriptor::TYPE_DOUBLE:
        case FieldDescriptor::TYPE_FIXED64:
        case FieldDescriptor::TYPE_SFIXED64: return i64;
        case FieldDescriptor::TYPE_FLOAT:
        case FieldDescriptor::TYPE_FIXED32:
        case FieldDescriptor::TYPE_SFIXED32: return i32;
        case FieldDescriptor::TYPE_STRING:
        case FieldDescriptor::TYPE_BYTES:
        case FieldDescriptor::TYPE_MESSAGE: return len;
        case FieldDescriptor::TYPE_GROUP: return start_group;
        default: return varint;
    }
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const auto n = util::utf8_length(s, i, cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

// Walker checks one buffer; positions in messages are byte offsets into it.
class Walker {
public:
    Walker(std::string_view bytes, const Descriptor& top) : in_(bytes), top_(top) {}

    // walk checks the fields from `pos` up to `end` as `type` (nullptr: a
    // group of an unknown field, all of whose fields are unknown) and
    // returns the position after them; `group` is the field number whose
    // end-group tag closes them (0: they run to `end`).
    std::size_t walk(std::size_t pos, std::size_t end, const Descriptor* type, int depth, std::uint64_t group) {
        while (pos < end) {
            const auto at = pos;
            std::uint64_t tag = 0;
            if (!read_varint(pos, end, tag)) fail(at, "a truncated or overlong field tag");
            if (tag > UINT32_MAX || (tag >> 3) == 0) fail(at, "field number " + std::to_string(tag >> 3) + " is not a valid one");
            const auto number = tag >> 3;
            const auto wire = static_cast<int>(tag & 7);
            if (wire == end_group) {
                if (number == group) return pos;
                fail(at, "an end-group tag for field " + std::to_string(number) + " with no such group open");
            }
            if (wire > i32) fail(at, "field " + std::to_string(number) + " has the invalid wire type " + std::to_string(wire));
            const FieldDescriptor* field = type ? type->FindFieldByNumber(static_cast<int>(number)) : nullptr;
            const bool packed = field && field->is_packable() && wire == len;
            if (field && !packed && wire != expected_wire_type(*field))
                fail(at, name(field) + " has wire type " + std::to_string(wire) + ", the schema's is " +
                             std::to_string(expected_wire_type(*field)));
            pos = value(at, pos, end, wire, number, field, packed, depth);
        }
        if (group != 0) fail(pos, "the group of field " + std::to_string(group) + " is not closed");
        return pos;
    }

private:
    // value checks the value of the field whose tag started at `at` and
    // whose value starts at `pos`; returns the position after it.
    std::size_t value(std::size_t at, std::size_t pos, std::size_t end, int wire, std::uint64_t number,
                      const FieldDescriptor* field, bool packed, int depth) {
        const auto what = field ? name(field) : "field " + std::to_string(number) + " (unknown to the schema)";
        switch (wire) {
            case varint: {
                std::uint64_t v = 0;
                if (!read_varint(pos, end, v)) fail(at, what + ": a truncated or overlong varint");
                return pos;
            }
            case i64:
            case i32: {
                const std::size_t n = wire == i64 ? 8 : 4;
                if (end - pos < n) fail(at, what + ": " + std::to_string(n) + " bytes needed, " + std::to_string(end - pos) + " left");
                return pos + n;
            }
            case start_group:  // only an unknown field gets here: its fields, to its end-group tag
                if (depth + 1 > max_depth) fail(at, "messages nested deeper than " + std::to_string(max_depth));
                return walk(pos, end, nullptr, depth + 1, number);
            default: break;
        }
        std::uint64_t n = 0;
        if (!read_varint(pos, end, n)) fail(at, what + ": a truncated or overlong length");
        if (n > end - pos)
            fail(at, what + ": a length of " + std::to_string(n) + " runs past the end (" + std::to_string(end - pos) + " bytes left)");
        const auto stop = pos + static_cast<std::size_t>(n);
        if (!field) return stop;
        if (packed) {
            packed_values(at, pos, stop, *field);
        } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
            if (depth + 1 > max_depth) fail(at, "messages nested deeper than " + std::to_string(max_depth));
            walk(pos, stop, field->message_type(), depth + 1, 0);
        } else if (field->type() == FieldDescriptor::TYPE_STRING && !valid_utf8(in_.substr(pos, stop - pos))) {
            fail(at, what + ": a string that is not UTF-8");
        }
        return stop;
    }

    void packed_values(std::size_t at, std::size_t pos, std::size_t stop, const FieldDescriptor& field) {
        const int wire = expected_wire_type(field);
        if (wire == varint) {
            std::uint64_t v = 0;
            while (pos < stop)
                if (!read_varint(pos, stop, v)) fail(at, name(&field) + ": a truncated varint in packed values");
            return;
        }
        const std::size_t n = wire == i64 ? 8 : 4;
        if ((stop - pos) % n != 0) fail(at, name(&field) + ": packed values of " + std::to_string(stop - pos) + " bytes, not a multiple of " + std::to_string(n));
    }

    bool read_varint(std::size_t& pos, std::size_t end, std::uint64_t& out) const {
        out = 0;
        for (int shift = 0; shift < 70 && pos < end; shift += 7) {
            const auto b = static_cast<unsigned char>(in_[pos++]);
            if (shift == 63 && b > 1) return false;
            out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }

    static std::string name(const FieldDescriptor* field) {
        return "field " + std::to_string(field->number()) + " (" + field->full_name() + ")";
    }

    [[noreturn]] void fail(std::size_t at, const std::string& why) const {
        throw Error(Errc::invalid_input, "decode", top_.full_name(),
                    "not an " + top_.full_name() + ": at byte " + std::to_string(at) + ": " + why);
    }

    std::string_view in_;
    const Descriptor& top_;
};

}  // namespace

void check_wire(std::string_view bytes, const Descriptor& type) {
    Walker(bytes, type).walk(0, bytes.size(), &type, 0, 0);
}

std::shared_ptr<Message> parse(std::string_view bytes, std::unique_ptr<google::protobuf::Message> empty) {
    const auto& type = *empty->GetDescriptor();
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
        throw Error(Errc::too_large, "decode", type.full_name(), "protobuf messages are limited to 2 GiB");
    check_wire(bytes, type);
    if (!empty->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw Error(Errc::invalid_input, "decode", type.full_name(),
                    "not an " + type.full_name() + ": protobuf's parser refuses the bytes");
    return std::make_shared<Message>(Message{std::move(empty)});
}

std::shared_ptr<Message> parse_json(const nlohmann::json& json, std::unique_ptr<google::protobuf::Message> empty) {
    const auto& type = *empty->GetDescriptor();
    const auto status = google::protobuf::util::JsonStringToMessage(json.dump(), empty.get());
    if (!status.ok())
        throw Error(Errc::invalid_input, "decode", type.full_name(),
                    "not an " + type.full_name() + " in JSON: " + status.ToString());
    return std::make_shared<Message>(Message{std::move(empty)});
}

void require_v1(Version version, std::string_view type) {
    if (version != Version::v1)
        throw Error(Errc::unsupported, "build", std::string(type), "builders write ommx.v1 messages; this value is ommx.v2");
}

namespace {
template <class E>
E enum_of(int value, E last) noexcept {
    return value >= 0 && value <= static_cast<int>(last) ? static_cast<E>(value) : E{};
}
}  // namespace

Sense sense_of(int value) noexcept { return enum_of(value, Sense::maximize); }
Kind kind_of(int value) noexcept { return enum_of(value, Kind::semi_continuous); }
Equality equality_of(int value) noexcept { return enum_of(value, Equality::less_than_or_equal_to_zero); }
Optimality optimality_of(int value) noexcept { return enum_of(value, Optimality::not_optimal); }
Relaxation relaxation_of(int value) noexcept { return enum_of(value, Relaxation::lp_relaxed); }

}  // namespace detail

std::string_view to_string(Sense value) noexcept {
    static constexpr std::string_view names[] = {"unspecified", "minimize", "maximize"};
    return names[static_cast<int>(value)];
}
std::string_view to_string(Kind value) noexcept {
    static constexpr std::string_view names[] = {"unspecified", "binary", "integer", "continuous", "semi_integer", "semi_continuous"};
    return names[static_cast<int>(value)];
}
std::string_view to_string(Equality value) noexcept {
    static constexpr std::string_view names[] = {"unspecified", "equal_to_zero", "less_than_or_equal_to_zero"};
    return names[static_cast<int>(value)];
}
std::string_view to_string(Optimality value) noexcept {
    static constexpr std::string_view names[] = {"unspecified", "optimal", "not_optimal"};
    return names[static_cast<int>(value)];
}
std::string_view to_string(Relaxation value) noexcept {
    static constexpr std::string_view names[] = {"unspecified", "lp_relaxed"};
    return names[static_cast<int>(value)];
}

std::string_view Payload::media_type() const noexcept {
    const auto& name = message_->proto->GetDescriptor()->name();
    const bool v1 = version_ == Version::v1;
    if (name == "Instance") return v1 ? media_types::instance : media_types::instance_v2;
    if (name == "ParametricInstance") return v1 ? media_types::parametric_instance : media_types::parametric_instance_v2;
    if (name == "Solution") return v1 ? media_types::solution : media_types::solution_v2;
    return v1 ? media_types::sample_set : media_types::sample_set_v2;
}

std::string Payload::encode() const {
    const auto& proto = *message_->proto;
    if (proto.ByteSizeLong() > static_cast<std::size_t>(INT_MAX))
        throw Error(Errc::too_large, "encode", type_name(), "protobuf messages are limited to 2 GiB");
    std::string out;
    {
        google::protobuf::io::StringOutputStream stream(&out);
        google::protobuf::io::CodedOutputStream coded(&stream);
        // Map entries in key order, so equal values encode to equal bytes.
        coded.SetSerializationDeterministic(true);
        proto.SerializeWithCachedSizes(&coded);
    }
    return out;
}

nlohmann::json Payload::to_json() const {
    std::string text;
    const auto status = google::protobuf::util::MessageToJsonString(*message_->proto, &text);
    if (!status.ok()) throw Error(Errc::invalid_input, "render JSON", type_name(), status.ToString());
    return nlohmann::json::parse(text);
}

std::string Payload::type_name() const { return message_->proto->GetDescriptor()->full_name(); }

detail::Message& Payload::mutable_message() {
    if (message_.use_count() > 1) {
        auto copy = std::make_shared<detail::Message>(detail::Message{std::unique_ptr<google::protobuf::Message>(message_->proto->New())});
        copy->proto->CopyFrom(*message_->proto);
        message_ = std::move(copy);
    }
    return *message_;
}

void check_version(const Payload& value, Version version, std::string_view media_type) {
    if (value.version() == version) return;
    throw Error(Errc::invalid_input, "encode", std::string(media_type),
                "the value is an " + value.type_name() + " and this codec writes ommx.v" +
                    std::to_string(static_cast<int>(version)) + " (sealrun does not convert between versions)");
}

}  // namespace sealrun::ommx
