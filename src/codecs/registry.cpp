// The global registry and its built-in codecs.
#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/bytes.h"
#include "sealrun/codecs/json.h"
#include "sealrun/codecs/jsonl.h"
#include "sealrun/codecs/npy.h"
#include "sealrun/codecs/ommx.h"
#include "sealrun/codecs/pickle.h"
#include "sealrun/codecs/tar.h"
#include "sealrun/codecs/text.h"

namespace sealrun {

CodecRegistry& CodecRegistry::global() {
    static CodecRegistry& registry = []() -> CodecRegistry& {
        static CodecRegistry r;
        r.add<codecs::JsonCodec>({".json"});
        r.add<codecs::JsonLinesCodec>({".jsonl"});
        r.add<codecs::NpyCodec>({".npy"});
        r.add<codecs::PickleCodec>({".p", ".pkl", ".pickle"});
        r.add<codecs::TextCodec>({".txt", ".log", ".sh"});
        r.add<codecs::BytesCodec>();
        r.add<codecs::TarCodec>();
        // OMMX payloads: by media type only (OMMX names no file extension).
        r.add<codecs::OmmxInstanceCodec>();
        r.add<codecs::OmmxParametricInstanceCodec>();
        r.add<codecs::OmmxSolutionCodec>();
        r.add<codecs::OmmxSampleSetCodec>();
        r.add<codecs::OmmxInstanceV2Codec>();
        r.add<codecs::OmmxParametricInstanceV2Codec>();
        r.add<codecs::OmmxSolutionV2Codec>();
        r.add<codecs::OmmxSampleSetV2Codec>();
        return r;
    }();
    return registry;
}

}  // namespace sealrun
