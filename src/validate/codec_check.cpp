// validate(): the codec checks. Every attachment is verified and, as it
// streams, decompressed (+zstd) and decoded by its codec; a run's trace is
// read as strict JSON.
#include <algorithm>
#include <new>
#include <optional>

#include "validate/validator.h"
#include "sealrun/codecs/json.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"

namespace sealrun::validation {

bool Validator::allowed_without_codec(std::string_view media_type) const {
    for (const auto& a : options_.codec_allow) {
        if (a == media_type) return true;
        if (a.size() > 2 && a.ends_with("/*") && media_type.size() > a.size() - 1 &&
            media_type.starts_with(std::string_view(a).substr(0, a.size() - 1)))
            return true;
    }
    return false;
}

// check_codec reports whether an attachment's logical media type has a codec
// and whether that codec decodes the (verified) bytes.
void Validator::check_codec(const oci::Descriptor& layer, const std::string& subject, const std::string& role) {
    const std::string stored = layer.media_type;
    const std::string logical(logical_media_type(stored));
    const auto codec = codecs_.by_media_type(logical);
    const bool allowed = allowed_without_codec(logical) || allowed_without_codec(stored);
    const auto cache_key = key(layer) + " " + stored;
    if (const auto* cached = decoded_.find(cache_key)) {
        const auto known = *cached;
        if (verified_.find(key(layer)) == nullptr) (void)read_blob(layer, 0, role);
        add("codec", subject, known.passed, known.warning, known.message);
        return;
    }
    const auto outcome = decode(layer, subject, role, codec.get(), allowed);
    if (!outcome) return;  // nothing decoded (not cached): the content is the "digest" check's failure
    decoded_.insert(cache_key, *outcome);
    add("codec", subject, outcome->passed, outcome->warning, outcome->message);
}

// check_trace verifies a run's trace layer and reads it as strict JSON as it
// streams (bounded memory, JsonCodec::check), reporting one "trace" check.
void Validator::check_trace(const oci::Descriptor& layer, const std::string& subject, const std::string& role) {
    std::string problem, unchecked;
    const bool verified = verify_blob(layer, role, [&](SourceTap& tap) {
        try {
            unchecked = codecs::JsonCodec::check(tap);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            if (tap.failed()) throw;  // the content's failure: the "digest" check reports it
            const auto* err = dynamic_cast<const Error*>(&e);
            problem = err != nullptr ? err->reason() : std::string(e.what());
        }
    });
    if (!verified) return;
    if (!problem.empty()) fail("trace", subject, role + " is not strict JSON: " + problem);
    else if (!unchecked.empty()) warn("trace", subject, role + ": JSON checked in part: " + unchecked);
    else pass("trace", subject, role + ": " + std::string(format::trace_type) + ", strict JSON");
}

// decode verifies `layer` and, as it streams, decompresses it (when stored
// "+zstd") and decodes it with `codec`: through the codec's streaming check
// when it has one, else whole in memory within max_decode_memory. At most
// max_blob_read bytes are decoded (after decompression), which bounds the
// time a zstd bomb costs. Returns nullopt when the content did not verify
// and there was something to decode.
std::optional<Validator::Outcome> Validator::decode(const oci::Descriptor& layer, const std::string& subject,
                                                    const std::string& role, const CodecEntry* codec, bool allowed) {
    const std::string& stored = layer.media_type;
    const std::string logical(logical_media_type(stored));
    const bool compressed = logical != stored;
    const std::string no_codec = "no codec is registered for " + logical +
                                 "; its bytes can be read but not decoded (accept it with --codec-allow " + logical + ")";
    const std::string allowed_msg = logical + " has no codec; accepted by codec_allow";
    if (!codec && !compressed) {
        (void)read_blob(layer, 0, role);
        return allowed ? Outcome{true, false, allowed_msg} : Outcome{true, true, no_codec};
    }
    const bool in_memory = codec != nullptr && !codec->check;
    const std::size_t limit = in_memory ? std::min(options_.max_blob_read, options_.max_decode_memory) : options_.max_blob_read;
    const auto over = [&](std::string_view what) {
        return Outcome{true, true,
                       "not decoded: " + std::string(what) +
                           (limit == options_.max_blob_read
                                ? " exceed max_blob_read (" + std::to_string(options_.max_blob_read) + ")"
                                : " exceed max_decode_memory (" + std::to_string(options_.max_decode_memory) +
                                      "), the most a codec without a streaming check holds")};
    };
    if (!compressed && layer.size >= 0 && static_cast<std::uint64_t>(layer.size) > limit) {
        if (!read_blob(layer, 0, role).verified) return std::nullopt;
        return over(std::to_string(layer.size) + " bytes");
    }
    enum class Stage { decoded, too_large, not_zstd, undecodable } stage = Stage::decoded;
    std::string why;
    std::string unchecked;
    const bool verified = verify_blob(layer, role, [&](SourceTap& tap) {
        std::optional<ZstdReadStream> z;
        std::optional<SourceTap> ztap;
        content::ReadStream* plain = &tap;
        if (compressed) {
            z.emplace(tap, limit);
            ztap.emplace(*z);
            plain = &*ztap;
        }
        try {
            if (!codec) content::drain(*plain);
            else if (!in_memory) unchecked = codec->check(*plain);
            else {
                std::string bytes;
                try {
                    bytes = content::read_to_string(*plain, limit, role);
                } catch (const Error& e) {
                    if (e.code() != Errc::too_large || tap.failed()) throw;
                    stage = Stage::too_large;  // past the cap, whether zstd's or read_to_string's
                    return;
                }
                (void)codec->decode(bytes);
            }
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            if (tap.failed()) throw;
            const auto* err = dynamic_cast<const Error*>(&e);
            if (err != nullptr && err->code() == Errc::too_large && ztap && ztap->failed()) {
                stage = Stage::too_large;
            } else {
                stage = ztap && ztap->failed() ? Stage::not_zstd : Stage::undecodable;
                why = err != nullptr ? err->reason() : std::string(e.what());
            }
        }
    });
    if (!verified) {
        // Corrupt or missing content is the "digest" check's failure; report
        // what is known about the codec without decoding anything.
        if (!codec) {
            if (allowed) add("codec", subject, true, false, allowed_msg + " (content not verified, nothing decoded)");
            else warn("codec", subject, no_codec);
        }
        return std::nullopt;
    }
    switch (stage) {
        case Stage::too_large: return over(compressed ? "decompressed bytes" : "bytes");
        case Stage::not_zstd: return Outcome{false, false, "stored as " + stored + " but does not decompress: " + why};
        case Stage::undecodable: return Outcome{false, false, "the " + logical + " codec cannot decode it: " + why};
        case Stage::decoded: break;
    }
    if (!codec) return allowed ? Outcome{true, false, allowed_msg + "; the zstd frame decompresses"} : Outcome{true, true, no_codec};
    if (!unchecked.empty()) return Outcome{true, true, "decoded in part with the " + logical + " codec: " + unchecked};
    return Outcome{true, false, "decodes with the " + logical + " codec" + (compressed ? " after zstd decompression" : "")};
}

}  // namespace sealrun::validation
