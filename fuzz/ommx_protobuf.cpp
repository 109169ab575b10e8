// OMMX payloads (codecs/ommx.h): the input is decoded as each of the eight
// message types. Bytes are refused with sealrun::Error only; what decodes
// encodes to bytes that decode to the same encoding, renders as JSON that
// reads back (a fixed point after one round), and answers every accessor
// (or refuses with sealrun::Error).
#include "common.h"
#include "sealrun/codecs/ommx.h"

namespace {

using namespace sealrun::ommx;

void read_all(const Instance& v) {
    (void)v.sense(), (void)v.decision_variables(), (void)v.constraints(), (void)v.removed_constraints();
    (void)v.description(), (void)v.parameters(), (void)v.annotations();
    const auto f = v.objective();
    (void)f.degree(), (void)f.constant();
    if (!f.terms.empty()) (void)f.coefficient(f.terms[0].ids);
}
void read_all(const ParametricInstance& v) {
    (void)v.sense(), (void)v.decision_variables(), (void)v.parameters(), (void)v.objective(), (void)v.constraints();
    (void)v.removed_constraints(), (void)v.description();
}
void read_all(const Solution& v) {
    (void)v.objective(), (void)v.feasible(), (void)v.feasible_relaxed(), (void)v.optimality(), (void)v.relaxation();
    (void)v.sense(), (void)v.state(), (void)v.decision_variables(), (void)v.evaluated_constraints();
}
void read_all(const SampleSet& v) {
    (void)v.sense(), (void)v.feasible(), (void)v.decision_variables(), (void)v.best_feasible();
    const auto ids = v.sample_ids();
    if (!ids.empty()) (void)v.sample(ids.front());
}

template <class T>
void one(std::string_view bytes, Version version) {
    T value;
    if (!fuzz::guarded([&] { value = T::decode(bytes, version); })) return;
    FUZZ_EXPECT(value.version() == version, value.type_name());
    std::string encoded, again;
    FUZZ_EXPECT(fuzz::guarded([&] { encoded = value.encode(); }), "a decoded value does not encode");
    FUZZ_EXPECT(fuzz::guarded([&] { again = T::decode(encoded, version).encode(); }) && again == encoded,
                value.type_name() + " does not round-trip");
    // JSON must read back; after one round it is a fixed point (not at
    // once: protobuf's mapping prints a -0.0 it keeps as "0", which reads
    // back as the default 0 and is then left out).
    nlohmann::json json, once, twice;
    if (fuzz::guarded([&] { json = value.to_json(); }))
        FUZZ_EXPECT(fuzz::guarded([&] {
                        once = T::from_json(json, version).to_json();
                        twice = T::from_json(once, version).to_json();
                    }) && once == twice,
                    value.type_name() + ": JSON does not read back: " + json.dump());
    fuzz::guarded([&] { read_all(value); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = fuzz::bytes(data, size);
    for (auto version : {Version::v1, Version::v2}) {
        one<Instance>(bytes, version);
        one<ParametricInstance>(bytes, version);
        one<Solution>(bytes, version);
        one<SampleSet>(bytes, version);
    }
    return 0;
}
