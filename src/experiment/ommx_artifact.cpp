// OMMX generic artifacts as read-only views (being written).
#include "sealrun/experiment/ommx_artifact.h"
