#include "TorchCheckpoint.h"

#include "EngineError.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace
{

struct PyValue;
// Values live in the Unpickler's arena and refer to each other by plain
// pointers: a pickle can build cycles (a dict that holds itself) and nest
// values arbitrarily deep, and neither must leak or recurse on destruction.
using PyPtr = PyValue*;

/// The values a torch.save pickle can hold, nothing more.
struct PyValue
{
  enum class Kind
  {
    None,
    Bool,
    Int,
    Float,
    String,
    Tuple,
    List,
    Dict,
    Global,
    Storage,
    Tensor
  };
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                             // String, Global ("module.name")
  std::vector<PyPtr> items;                     // Tuple, List
  std::vector<std::pair<PyPtr, PyPtr>> entries; // Dict
  at::Tensor tensor;                            // Storage (1-D, its dtype) and Tensor

  explicit PyValue(Kind k)
    : kind(k)
  {
  }
};

const char* kindName(PyValue::Kind k)
{
  switch (k)
  {
    case PyValue::Kind::None:
      return "None";
    case PyValue::Kind::Bool:
      return "bool";
    case PyValue::Kind::Int:
      return "int";
    case PyValue::Kind::Float:
      return "float";
    case PyValue::Kind::String:
      return "str";
    case PyValue::Kind::Tuple:
      return "tuple";
    case PyValue::Kind::List:
      return "list";
    case PyValue::Kind::Dict:
      return "dict";
    case PyValue::Kind::Global:
      return "global";
    case PyValue::Kind::Storage:
      return "storage";
    case PyValue::Kind::Tensor:
      return "tensor";
  }
  return "?";
}

bool storageType(const std::string& name, at::ScalarType& type)
{
  static const std::map<std::string, at::ScalarType> table = {
    { "torch.FloatStorage", at::kFloat },
    { "torch.DoubleStorage", at::kDouble },
    { "torch.HalfStorage", at::kHalf },
    { "torch.BFloat16Storage", at::kBFloat16 },
    { "torch.LongStorage", at::kLong },
    { "torch.IntStorage", at::kInt },
    { "torch.ShortStorage", at::kShort },
    { "torch.CharStorage", at::kChar },
    { "torch.ByteStorage", at::kByte },
    { "torch.BoolStorage", at::kBool },
  };
  auto it = table.find(name);
  if (it == table.end())
  {
    return false;
  }
  type = it->second;
  return true;
}

class Unpickler
{
public:
  Unpickler(const std::string& source, const std::uint8_t* data, std::size_t size,
    caffe2::serialize::PyTorchStreamReader& reader, std::uint64_t maxTensorBytes)
    : Source(source)
    , Data(data)
    , Size(size)
    , Reader(reader)
    , MaxTensorBytes(maxTensorBytes)
  {
  }

  PyPtr makeValue(PyValue::Kind k)
  {
    Arena.push_back(std::make_unique<PyValue>(k));
    return Arena.back().get();
  }

  PyPtr run()
  {
    while (true)
    {
      const std::size_t opPos = Pos;
      const std::uint8_t op = readByte();
      switch (op)
      {
        case 0x80: // PROTO
          readByte();
          break;
        case 0x95: // FRAME
          readBytes(8);
          break;
        case '}': // EMPTY_DICT
          push(makeValue(PyValue::Kind::Dict));
          break;
        case ']': // EMPTY_LIST
          push(makeValue(PyValue::Kind::List));
          break;
        case ')': // EMPTY_TUPLE
          push(makeValue(PyValue::Kind::Tuple));
          break;
        case '(': // MARK
          Marks.push_back(Stack.size());
          break;
        case 'c': // GLOBAL
        {
          std::string module = readLine();
          std::string name = readLine();
          auto g = makeValue(PyValue::Kind::Global);
          g->text = module + "." + name;
          push(g);
          break;
        }
        case 0x93: // STACK_GLOBAL
        {
          PyPtr name = pop();
          PyPtr module = pop();
          if (name->kind != PyValue::Kind::String || module->kind != PyValue::Kind::String)
          {
            malformed(opPos, "STACK_GLOBAL needs two strings");
          }
          auto g = makeValue(PyValue::Kind::Global);
          g->text = module->text + "." + name->text;
          push(g);
          break;
        }
        case 'q': // BINPUT
          Memo[readByte()] = top();
          break;
        case 'r': // LONG_BINPUT
          Memo[readUInt(4)] = top();
          break;
        case 0x94: // MEMOIZE
        {
          const auto index = static_cast<std::uint64_t>(Memo.size());
          Memo[index] = top();
          break;
        }
        case 'h': // BINGET
          push(memo(readByte(), opPos));
          break;
        case 'j': // LONG_BINGET
          push(memo(readUInt(4), opPos));
          break;
        case 'X': // BINUNICODE
          pushString(readUInt(4));
          break;
        case 0x8c: // SHORT_BINUNICODE
          pushString(readByte());
          break;
        case 'U': // SHORT_BINSTRING
          pushString(readByte());
          break;
        case 'T': // BINSTRING
          pushString(readUInt(4));
          break;
        case 'J': // BININT
          pushInt(static_cast<std::int32_t>(static_cast<std::uint32_t>(readUInt(4))));
          break;
        case 'K': // BININT1
          pushInt(readByte());
          break;
        case 'M': // BININT2
          pushInt(static_cast<std::int64_t>(readUInt(2)));
          break;
        case 0x8a: // LONG1
        {
          const std::size_t n = readByte();
          if (n > 8)
          {
            malformed(opPos, "LONG1 integer wider than 64 bits");
          }
          const std::uint8_t* bytes = readBytes(n);
          std::uint64_t v = 0;
          for (std::size_t i = 0; i < n; ++i)
          {
            v |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
          }
          if (n > 0 && n < 8 && (bytes[n - 1] & 0x80))
          {
            v |= ~std::uint64_t(0) << (8 * n); // sign extension
          }
          pushInt(static_cast<std::int64_t>(v));
          break;
        }
        case 'G': // BINFLOAT (big endian)
        {
          const std::uint8_t* bytes = readBytes(8);
          std::uint64_t bits = 0;
          for (int i = 0; i < 8; ++i)
          {
            bits = (bits << 8) | bytes[i];
          }
          auto v = makeValue(PyValue::Kind::Float);
          std::memcpy(&v->real, &bits, 8);
          push(v);
          break;
        }
        case 'N': // NONE
          push(makeValue(PyValue::Kind::None));
          break;
        case 0x88: // NEWTRUE
        case 0x89: // NEWFALSE
        {
          auto v = makeValue(PyValue::Kind::Bool);
          v->boolean = (op == 0x88);
          push(v);
          break;
        }
        case 't': // TUPLE
        {
          auto t = makeValue(PyValue::Kind::Tuple);
          t->items = popToMark(opPos);
          push(t);
          break;
        }
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: // TUPLE3
        {
          const std::size_t n = static_cast<std::size_t>(op - 0x84);
          if (Stack.size() < n + stackFloor())
          {
            malformed(opPos, "tuple of missing items");
          }
          auto t = makeValue(PyValue::Kind::Tuple);
          t->items.assign(Stack.end() - static_cast<std::ptrdiff_t>(n), Stack.end());
          Stack.resize(Stack.size() - n);
          push(t);
          break;
        }
        case 'a': // APPEND
        {
          PyPtr v = pop();
          PyPtr list = top();
          if (list->kind != PyValue::Kind::List)
          {
            malformed(opPos, "APPEND to a non-list");
          }
          list->items.push_back(v);
          break;
        }
        case 'e': // APPENDS
        {
          std::vector<PyPtr> values = popToMark(opPos);
          PyPtr list = top();
          if (list->kind != PyValue::Kind::List)
          {
            malformed(opPos, "APPENDS to a non-list");
          }
          list->items.insert(list->items.end(), values.begin(), values.end());
          break;
        }
        case 's': // SETITEM
        {
          PyPtr value = pop();
          PyPtr key = pop();
          PyPtr dict = top();
          if (dict->kind != PyValue::Kind::Dict)
          {
            malformed(opPos, "SETITEM on a non-dict");
          }
          dict->entries.emplace_back(key, value);
          break;
        }
        case 'u': // SETITEMS
        {
          std::vector<PyPtr> values = popToMark(opPos);
          PyPtr dict = top();
          if (dict->kind != PyValue::Kind::Dict || values.size() % 2 != 0)
          {
            malformed(opPos, "SETITEMS on a non-dict or with an odd number of items");
          }
          for (std::size_t i = 0; i < values.size(); i += 2)
          {
            dict->entries.emplace_back(values[i], values[i + 1]);
          }
          break;
        }
        case 'b': // BUILD: the state of an OrderedDict is its _metadata; ignored
          pop();
          top();
          break;
        case 'R': // REDUCE
        {
          PyPtr args = pop();
          PyPtr callable = pop();
          push(reduce(callable, args, opPos));
          break;
        }
        case 'Q': // BINPERSID
          push(persistentLoad(pop(), opPos));
          break;
        case '.': // STOP
          if (Stack.size() != 1 || !Marks.empty())
          {
            malformed(opPos, "STOP with an unbalanced stack");
          }
          return Stack.back();
        default:
        {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02x", op);
          throw ModelError(Source + ": unsupported pickle opcode " + hex + " at byte " +
            std::to_string(opPos) + " of data.pkl (not a plain torch.save state dict)");
        }
      }
    }
  }

private:
  [[noreturn]] void malformed(std::size_t pos, const std::string& what) const
  {
    throw ModelError(
      Source + ": malformed pickle in data.pkl at byte " + std::to_string(pos) + ": " + what);
  }

  std::uint8_t readByte()
  {
    if (Pos >= Size)
    {
      malformed(Pos, "unexpected end of data");
    }
    return Data[Pos++];
  }

  const std::uint8_t* readBytes(std::size_t n)
  {
    if (n > Size - Pos)
    {
      malformed(Pos, "unexpected end of data");
    }
    const std::uint8_t* p = Data + Pos;
    Pos += n;
    return p;
  }

  std::uint64_t readUInt(std::size_t n)
  {
    const std::uint8_t* p = readBytes(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
    {
      v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    }
    return v;
  }

  std::string readLine()
  {
    const std::size_t start = Pos;
    while (Pos < Size && Data[Pos] != '\n')
    {
      ++Pos;
    }
    if (Pos >= Size)
    {
      malformed(start, "unterminated GLOBAL name");
    }
    std::string s(reinterpret_cast<const char*>(Data + start), Pos - start);
    ++Pos;
    return s;
  }

  void pushString(std::uint64_t n)
  {
    const std::uint8_t* p = readBytes(static_cast<std::size_t>(n));
    auto v = makeValue(PyValue::Kind::String);
    v->text.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    push(v);
  }

  void pushInt(std::int64_t i)
  {
    auto v = makeValue(PyValue::Kind::Int);
    v->integer = i;
    push(v);
  }

  std::size_t stackFloor() const { return Marks.empty() ? 0 : Marks.back(); }

  void push(PyPtr v)
  {
    if (!v)
    {
      malformed(Pos, "null value");
    }
    Stack.push_back(std::move(v));
  }

  PyPtr pop()
  {
    if (Stack.size() <= stackFloor())
    {
      malformed(Pos, "stack underflow");
    }
    PyPtr v = Stack.back();
    Stack.pop_back();
    return v;
  }

  PyPtr top() const
  {
    if (Stack.size() <= stackFloor())
    {
      malformed(Pos, "stack underflow");
    }
    return Stack.back();
  }

  PyPtr memo(std::uint64_t index, std::size_t pos) const
  {
    auto it = Memo.find(index);
    if (it == Memo.end())
    {
      malformed(pos, "memo entry " + std::to_string(index) + " does not exist");
    }
    return it->second;
  }

  std::vector<PyPtr> popToMark(std::size_t pos)
  {
    if (Marks.empty())
    {
      malformed(pos, "no MARK on the stack");
    }
    const std::size_t mark = Marks.back();
    Marks.pop_back();
    if (mark > Stack.size())
    {
      malformed(pos, "MARK beyond the stack");
    }
    std::vector<PyPtr> items(Stack.begin() + static_cast<std::ptrdiff_t>(mark), Stack.end());
    Stack.resize(mark);
    return items;
  }

  static const PyPtr& item(const PyPtr& tuple, std::size_t i) { return tuple->items[i]; }

  std::int64_t intOf(const PyPtr& v, std::size_t pos, const char* what) const
  {
    if (v->kind != PyValue::Kind::Int)
    {
      malformed(pos, std::string(what) + " is a " + kindName(v->kind) + ", not an int");
    }
    return v->integer;
  }

  std::vector<std::int64_t> intsOf(const PyPtr& v, std::size_t pos, const char* what) const
  {
    if (v->kind != PyValue::Kind::Tuple && v->kind != PyValue::Kind::List)
    {
      malformed(pos, std::string(what) + " is not a tuple");
    }
    std::vector<std::int64_t> out;
    for (const auto& x : v->items)
    {
      const std::int64_t i = intOf(x, pos, what);
      if (i < 0)
      {
        malformed(pos, std::string(what) + " has a negative entry");
      }
      out.push_back(i);
    }
    return out;
  }

  PyPtr reduce(const PyPtr& callable, const PyPtr& args, std::size_t pos)
  {
    if (callable->kind != PyValue::Kind::Global)
    {
      malformed(pos, "REDUCE of a " + std::string(kindName(callable->kind)));
    }
    if (args->kind != PyValue::Kind::Tuple)
    {
      malformed(pos, "REDUCE arguments are not a tuple");
    }
    const std::string& name = callable->text;
    if (name == "collections.OrderedDict")
    {
      return makeValue(PyValue::Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    {
      return rebuildTensor(args, pos);
    }
    if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state")
    {
      if (args->items.empty() || item(args, 0)->kind != PyValue::Kind::Tensor)
      {
        malformed(pos, "_rebuild_parameter without a tensor");
      }
      return item(args, 0);
    }
    throw ModelError(Source + ": data.pkl calls '" + name +
      "', which a plain state dict does not use; refusing to load it");
  }

  PyPtr rebuildTensor(const PyPtr& args, std::size_t pos)
  {
    if (args->items.size() < 4 || item(args, 0)->kind != PyValue::Kind::Storage)
    {
      malformed(pos, "_rebuild_tensor_v2 with unexpected arguments");
    }
    const at::Tensor& storage = item(args, 0)->tensor;
    const std::int64_t offset = intOf(item(args, 1), pos, "storage offset");
    const std::vector<std::int64_t> size = intsOf(item(args, 2), pos, "tensor size");
    const std::vector<std::int64_t> stride = intsOf(item(args, 3), pos, "tensor stride");
    if (size.size() != stride.size())
    {
      malformed(pos, "tensor size and stride differ in length");
    }
    const std::int64_t storageNumel = storage.numel();
    if (offset < 0 || offset > storageNumel)
    {
      malformed(pos,
        "storage offset " + std::to_string(offset) + " outside its storage of " +
          std::to_string(storageNumel) + " elements");
    }
    // Every product and sum below is checked: sizes, strides and the offset
    // come from the file.
    std::int64_t numel = 1;
    std::int64_t last = offset;
    for (std::size_t i = 0; i < size.size(); ++i)
    {
      std::int64_t extent = 0;
      if (__builtin_mul_overflow(numel, size[i], &numel) ||
        (size[i] > 0 &&
          (__builtin_mul_overflow(size[i] - 1, stride[i], &extent) ||
            __builtin_add_overflow(last, extent, &last))))
      {
        malformed(pos, "tensor size or stride overflows");
      }
    }
    if (numel > 0 && last >= storageNumel)
    {
      malformed(pos,
        "tensor view reaches beyond its storage of " + std::to_string(storageNumel) + " elements");
    }
    // A state dict never holds more elements in a tensor than in its storage
    // (stride-0 views of a few elements could otherwise ask for gigabytes),
    // and all tensors together stay within a fixed multiple of the file size.
    if (numel > storageNumel)
    {
      malformed(pos,
        "tensor of " + std::to_string(numel) + " elements over a storage of " +
          std::to_string(storageNumel) + " (overlapping views are not saved in state dicts)");
    }
    TensorBytes += static_cast<std::uint64_t>(numel) * sizeof(float);
    if (TensorBytes > MaxTensorBytes)
    {
      throw ModelError(Source + ": the tensors of data.pkl need more than " +
        std::to_string(MaxTensorBytes) +
        " bytes of float32, out of proportion to the file size; "
        "the checkpoint is damaged");
    }
    auto v = makeValue(PyValue::Kind::Tensor);
    at::Tensor view =
      numel == 0 ? at::empty(size, storage.options()) : storage.as_strided(size, stride, offset);
    v->tensor = view.to(at::kFloat).contiguous().clone();
    return v;
  }

  PyPtr persistentLoad(const PyPtr& pid, std::size_t pos)
  {
    if (pid->kind != PyValue::Kind::Tuple || pid->items.size() < 5 ||
      item(pid, 0)->kind != PyValue::Kind::String || item(pid, 0)->text != "storage" ||
      item(pid, 1)->kind != PyValue::Kind::Global || item(pid, 2)->kind != PyValue::Kind::String)
    {
      malformed(pos, "persistent id is not ('storage', type, key, location, numel)");
    }
    at::ScalarType type;
    if (!storageType(item(pid, 1)->text, type))
    {
      throw ModelError(
        Source + ": unsupported storage type '" + item(pid, 1)->text + "' in data.pkl");
    }
    const std::string& key = item(pid, 2)->text;
    const std::int64_t numel = intOf(item(pid, 4), pos, "storage size");
    if (numel < 0)
    {
      malformed(pos, "negative storage size");
    }
    auto cached = Storages.find(key);
    if (cached != Storages.end())
    {
      return cached->second;
    }
    const std::string record = "data/" + key;
    if (!Reader.hasRecord(record))
    {
      throw ModelError(Source + ": storage record '" + record + "' is missing from the archive");
    }
    at::DataPtr bytes;
    std::size_t nbytes = 0;
    std::tie(bytes, nbytes) = Reader.getRecord(record);
    const std::size_t element = at::elementSize(type);
    if (static_cast<std::uint64_t>(numel) > nbytes / element)
    {
      throw ModelError(Source + ": storage record '" + record + "' holds " +
        std::to_string(nbytes) + " bytes but " + std::to_string(numel) + " elements of " +
        std::to_string(element) + " bytes are needed (truncated file)");
    }
    const std::size_t needed = static_cast<std::size_t>(numel) * element;
    auto v = makeValue(PyValue::Kind::Storage);
    v->tensor = at::empty({ numel }, at::TensorOptions().dtype(type));
    if (needed > 0)
    {
      std::memcpy(v->tensor.data_ptr(), bytes.get(), needed);
    }
    Storages[key] = v;
    return v;
  }

  std::string Source;
  const std::uint8_t* Data;
  std::size_t Size;
  std::size_t Pos = 0;
  caffe2::serialize::PyTorchStreamReader& Reader;
  std::uint64_t MaxTensorBytes;
  std::vector<PyPtr> Stack;
  std::vector<std::size_t> Marks;
  std::unordered_map<std::uint64_t, PyPtr> Memo;
  std::map<std::string, PyPtr> Storages;
  std::vector<std::unique_ptr<PyValue>> Arena; // owns every value; freed flat
  std::uint64_t TensorBytes = 0;               // float32 bytes of the rebuilt tensors
};

} // namespace

TensorMap loadTorchCheckpoint(const std::string& path)
{
  try
  {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl"))
    {
      throw ModelError(path + ": the archive has no data.pkl record; not a torch.save checkpoint");
    }
    at::DataPtr pickle;
    std::size_t size = 0;
    std::tie(pickle, size) = reader.getRecord("data.pkl");
    // float32 copies of half / int8 storages and tied weights can exceed the
    // file size a few times, never more.
    std::error_code error;
    const std::uint64_t fileSize = std::filesystem::file_size(path, error);
    const std::uint64_t maxTensorBytes = 8 * (error ? 0 : fileSize) + (std::uint64_t(1) << 20);
    Unpickler unpickler(
      path, static_cast<const std::uint8_t*>(pickle.get()), size, reader, maxTensorBytes);
    PyPtr root = unpickler.run();
    if (root->kind != PyValue::Kind::Dict)
    {
      throw ModelError(path + ": the checkpoint holds a " + std::string(kindName(root->kind)) +
        ", not a state dict");
    }
    TensorMap tensors;
    for (const auto& kv : root->entries)
    {
      if (kv.first->kind == PyValue::Kind::String && kv.second->kind == PyValue::Kind::Tensor)
      {
        tensors[kv.first->text] = kv.second->tensor;
      }
    }
    return tensors;
  }
  catch (const ModelError&)
  {
    throw;
  }
  catch (const c10::Error& e)
  {
    throw ModelError(
      path + ": cannot read the torch checkpoint archive: " + e.what_without_backtrace());
  }
  catch (const std::exception& e)
  {
    throw ModelError(path + ": cannot read the torch checkpoint: " + e.what());
  }
}

} // namespace engine
} // namespace dualembed
