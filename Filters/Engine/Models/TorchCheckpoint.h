// Reader of `torch.save`d state dicts (`pytorch_model.bin`, zip container).
//
// LibTorch 1.13's torch::pickle_load cannot read files written by torch 2.x,
// so the zip records are read with caffe2::serialize::PyTorchStreamReader and
// `data.pkl` is interpreted by a small pickle machine that knows the opcode
// subset torch.save uses (protocol 2) and only these callables:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and the torch.*Storage types. Anything else
// throws ModelError: no arbitrary object is ever constructed.
#ifndef DualEmbed_Engine_TorchCheckpoint_h
#define DualEmbed_Engine_TorchCheckpoint_h

#include "SafeTensors.h" // TensorMap

#include <string>

namespace dualembed
{
namespace engine
{

/// Reads the tensors of a state dict saved with torch.save (zip format).
/// Tensors are rebuilt with their storage offset, size and stride, then
/// converted to contiguous float32. Non-tensor values are skipped.
TensorMap loadTorchCheckpoint(const std::string& path);

} // namespace engine
} // namespace dualembed

#endif
