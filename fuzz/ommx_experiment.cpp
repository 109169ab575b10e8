// The OMMX experiment readers (docs/FORMAT.md "OMMX interop"): the input is
// read as (a) an experiment config, strict JSON whose layer references are
// checked against a fixed manifest of eight layers, one of each type an
// experiment holds, and (b) a MessagePack run-parameter table. Every
// refusal is a sealrun::Error.
#include "common.h"

#include "sealrun/codecs/ommx.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "experiment/ommx_experiment.h"

namespace {

const std::vector<sealrun::oci::Descriptor>& layers() {
    static const auto out = [] {
        std::vector<sealrun::oci::Descriptor> l;
        for (const auto type : {sealrun::ommx::media_types::instance, sealrun::ommx::media_types::solution,
                                sealrun::ommx::media_types::sample_set, sealrun::ommx::media_types::instance_v2,
                                sealrun::ommx::archive::trace, sealrun::ommx::archive::diagnostic,
                                sealrun::ommx::archive::run_parameters, std::string_view("application/json")})
            l.push_back(sealrun::oci::Descriptor::for_bytes(std::string(type), std::string(type)));
        return l;
    }();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = fuzz::bytes(data, size);
    fuzz::guarded([&] {
        const auto config = sealrun::detail::read_ommx_experiment_config(input, layers(), "fuzz");
        for (const auto& [id, run] : config.runs) {
            FUZZ_EXPECT(id == run.run_id && id >= 0, "run id");
            for (const auto& [name, layer] : run.attachments) FUZZ_EXPECT(layer < layers().size(), name);
            for (const auto& s : run.solves) FUZZ_EXPECT(run.attachments.count(s.input) == 1, s.input);
            for (const auto& s : run.samplings) FUZZ_EXPECT(run.attachments.count(s.input) == 1, s.input);
        }
        FUZZ_EXPECT(config.run_parameters < layers().size(), "run_parameters");
    });
    fuzz::guarded([&] {
        for (const auto& [id, cells] : sealrun::detail::read_ommx_run_parameters(input, "fuzz")) FUZZ_EXPECT(id >= 0, "run id");
    });
    return 0;
}
