// Converting an OMMX experiment into a sealrun experiment (being written).
#include "sealrun/experiment/convert.h"
