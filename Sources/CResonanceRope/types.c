#include "resonance_rope_types.h"
