// Typed exceptions thrown by the DualEmbed engine (no VTK, no LibTorch).
// Filters catch them and report the message with vtkErrorMacro.
#ifndef DualEmbed_Engine_EngineError_h
#define DualEmbed_Engine_EngineError_h

#include <stdexcept>
#include <string>

namespace dualembed
{
namespace engine
{

/// A model folder, a checkpoint, a configuration file or an input does not
/// match what the engine expects. The message is a sentence a user can act
/// on: it names the file (and key or tensor) involved.
class ModelError : public std::runtime_error
{
public:
  explicit ModelError(const std::string& message)
    : std::runtime_error(message)
  {
  }
};

/// Long-running work was cancelled: a progress callback returned false.
/// Filters catch it and end the request quietly (no error message needed).
class Aborted : public std::runtime_error
{
public:
  explicit Aborted(const std::string& message = "The computation was aborted.")
    : std::runtime_error(message)
  {
  }
};

} // namespace engine
} // namespace dualembed

#endif
