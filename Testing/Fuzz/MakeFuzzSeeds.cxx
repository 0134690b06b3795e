// Writes the seed corpus of every harness: MakeFuzzSeeds <out-dir> <testing-data-dir>.
// The files come from the tests' own generators (Testing/Formats/FormatTestUtils,
// the library's results-file writer) and the engine tests' fixtures
// (Testing/Data/hf-reference), in each harness's input layout (FuzzSupport.h).
#include "FormatTestUtils.h"
#include "FuzzSupport.h"
#include "SampleStore.h"

#include <caffe2/serialize/inline_container.h>
#include <hdf5.h>
#include <jpeglib.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using namespace dualembed;
using formats::testing::Bytes;
using fuzz::joinParts;

namespace
{
fs::path outDir;
fs::path work;

std::string readFile(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void seed(const std::string& harness, const std::string& name, const std::string& bytes)
{
  fuzz::writeBytes(outDir / harness / name, bytes);
}

std::string str(const Bytes& bytes)
{
  return std::string(bytes.begin(), bytes.end());
}

/// Bytes of a file written by `writer` (the tests' writers take paths; ".gz" compresses).
std::string viaFile(const std::string& name, const Bytes& bytes)
{
  const auto path = work / name;
  formats::testing::writeFile(path, bytes);
  return readFile(path);
}

std::string hdf5File(const std::function<void(hid_t)>& fill)
{
  const auto path = work / "file.h5";
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  fill(file);
  H5Fclose(file);
  return readFile(path);
}

std::string jpeg(int width, int height, int components)
{
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = width;
  info.image_height = height;
  info.input_components = components;
  info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_start_compress(&info, TRUE);
  std::vector<unsigned char> row(static_cast<std::size_t>(width) * components);
  while (info.next_scanline < info.image_height)
  {
    for (std::size_t i = 0; i < row.size(); ++i)
    {
      row[i] = formats::testing::pixelValue(info.next_scanline, static_cast<std::int64_t>(i));
    }
    JSAMPROW rows[1] = { row.data() };
    jpeg_write_scanlines(&info, rows, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::string out(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return out;
}

/// An uncompressed 24-bit BMP (bottom-up rows padded to 4 bytes).
std::string bmp(int width, int height)
{
  const int stride = (width * 3 + 3) / 4 * 4;
  const std::uint32_t dataSize = stride * height;
  std::string out;
  const auto u16 = [&](std::uint32_t v) {
    out.push_back(char(v & 0xFF));
    out.push_back(char(v >> 8));
  };
  const auto u32 = [&](std::uint32_t v) {
    u16(v & 0xFFFF);
    u16(v >> 16);
  };
  out += "BM";
  u32(54 + dataSize);
  u32(0);
  u32(54);
  u32(40);
  u32(width);
  u32(height);
  u16(1);
  u16(24);
  u32(0);
  u32(dataSize);
  u32(2835);
  u32(2835);
  u32(0);
  u32(0);
  for (int i = 0; i < stride * height; ++i)
  {
    out.push_back(static_cast<char>(formats::testing::pixelValue(0, i)));
  }
  return out;
}
} // namespace

int main(int argc, char** argv)
{
  if (argc != 3)
  {
    std::cerr << "usage: MakeFuzzSeeds <out-dir> <Testing/Data>\n";
    return 2;
  }
  outDir = argv[1];
  const fs::path data = argv[2];
  work = outDir / ".work";
  fs::create_directories(work);
  using namespace formats::testing;

  // IDX: raw and gzip, a labels file of the wrong magic, a truncated images file.
  const std::vector<std::uint8_t> labels = { 0, 1, 2, 3, 9 };
  seed("idx", "raw",
    joinParts({ std::string(1, '\0'), str(idxImages(5, 3, 4)), str(idxLabels(5, labels)) }));
  seed("idx", "gz",
    joinParts(
      { "\1", viaFile("i.gz", idxImages(5, 3, 4)), viaFile("l.gz", idxLabels(5, labels)) }));
  seed("idx", "short",
    joinParts(
      { std::string(1, '\0'), str(idxImages(5, 3, 4, 3)), str(idxLabels(5, labels, 0x803)) }));

  // CIFAR-10 and CIFAR-100 records with class-name files.
  seed("cifar", "cifar10",
    joinParts({ std::string(1, '\0'), str(cifarRecords({ { 3 }, { 9 } })),
      "airplane\nautomobile\nbird\ncat\n" }));
  seed("cifar", "cifar100",
    joinParts({ "\1", str(cifarRecords({ { 1, 7 }, { 0, 99 } })), "apple\nfish\n" }));

  // Image folders: two classes of PNG fixtures, a JPEG, a stray text file.
  const auto png0 = readFile(data / "hf-reference/images/gray28_0.png");
  const auto png1 = readFile(data / "hf-reference/images/rgb32_0.png");
  seed("image_folder", "two-classes",
    joinParts({ std::string("\0\0", 2) + png0, std::string("\1\1", 2) + png1,
      std::string("\1\2", 2) + jpeg(8, 6, 3), std::string("\0\4", 2) + "text", "", "", "", "",
      "" }));

  // Image decoder: the PNG fixtures, JPEG gray and RGB, BMP.
  int n = 0;
  for (const auto& entry : fs::directory_iterator(data / "hf-reference/images"))
  {
    if (entry.path().extension() == ".png")
    {
      seed("image_decoder", "png" + std::to_string(n++),
        std::string(1, '\0') + readFile(entry.path()));
    }
  }
  seed("image_decoder", "jpeg-rgb", "\1" + jpeg(13, 7, 3));
  seed("image_decoder", "jpeg-gray", "\5" + jpeg(9, 16, 1));
  seed("image_decoder", "bmp", "\2" + bmp(5, 3));
  seed("image_decoder", "pnm", "\4" + std::string("P6\n3 2\n255\n") + std::string(18, '\x7f'));

  // HDF5 image datasets, as TestHdf5 writes them.
  const auto pixels = testPixels(6 * 4 * 5 * 3);
  const std::vector<std::int64_t> hdfLabels = { 2, 0, 1, 2, 2, 1 };
  seed("hdf5_images", "gray-fixed-names", hdf5File([&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { 6, 4, 5 }, pixels.data());
    writeDataset(file, "labels", H5T_STD_I64LE, { 6 }, hdfLabels.data());
    writeStrings(file, "label_names", { "zero", "one", "two" }, false);
  }));
  seed("hdf5_images", "rgb-vlen-names", hdf5File([&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { 6, 4, 5, 3 }, pixels.data());
    writeDataset(file, "labels", H5T_STD_I64LE, { 6, 1 }, hdfLabels.data());
    writeStrings(file, "label_names", { "zero", "one", "two" }, true);
  }));

  // Results file, written by the library's own writer.
  {
    const std::int64_t rows = 4;
    const std::vector<float> points = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0 };
    const std::vector<std::int32_t> label = { 0, 1, 1, 0 };
    const std::vector<float> embedding = { 1, 2, 3, 4, 5, 6, 7, 8 };
    const std::vector<std::int32_t> shape = { 2, 2, 1 };
    formats::SampleStoreContents contents;
    contents.numberOfSamples = rows;
    contents.points = points.data();
    formats::ColumnView l;
    l.name = "label";
    l.type = formats::ColumnType::Int32;
    l.rows = rows;
    l.values = label.data();
    l.attributes.vtkClass = "vtkIntArray";
    formats::ColumnView e;
    e.name = "embedding/ft%";
    e.type = formats::ColumnType::Float32;
    e.components = 2;
    e.rows = rows;
    e.values = embedding.data();
    formats::ColumnView s;
    s.name = "label_str";
    s.type = formats::ColumnType::String;
    s.rows = rows;
    s.strings = { "cat", "dog", "dog", "cat" };
    formats::ColumnView f;
    f.name = "image_shape";
    f.type = formats::ColumnType::Int32;
    f.components = 3;
    f.rows = 1;
    f.values = shape.data();
    contents.pointData = { l, e, s };
    contents.fieldData = { f };
    contents.pointDataAttributes = { { "active_scalars", "label" } };
    const auto path = work / "samples.h5";
    formats::writeSampleStore(path.string(), contents);
    seed("sample_store", "samples", readFile(path));
  }

  // Engine fixtures: safetensors, torch checkpoints (whole and their data.pkl), configs.
  for (const char* model :
    { "vit-tiny", "swin-tiny-classifier", "vit-tiny-classifier", "swin-tiny" })
  {
    const auto dir = data / "hf-reference" / model;
    seed("safetensors", model, readFile(dir / "model.safetensors"));
    seed("model_config", model, readFile(dir / "config.json"));
    seed("preprocessor_config", model, readFile(dir / "preprocessor_config.json"));
    seed("torch_checkpoint", model, readFile(dir / "pytorch_model.bin"));
    caffe2::serialize::PyTorchStreamReader reader((dir / "pytorch_model.bin").string());
    at::DataPtr pickle;
    std::size_t size = 0;
    std::tie(pickle, size) = reader.getRecord("data.pkl");
    seed("torch_unpickler", model, std::string(static_cast<const char*>(pickle.get()), size));
  }
  seed("preprocessor_config", "shortest-edge-crop",
    R"({"do_resize": true, "size": {"shortest_edge": 40}, "do_center_crop": true, "crop_size": [32, 24], "resample": 3, "image_mean": 0.5, "image_std": [0.2, 0.3, 0.4]})");
  fs::remove_all(work);
  // Parquet and Arrow IPC: the Hugging Face test files (arrow-rs, DuckDB, apache-arrow writers).
  const fs::path hf = data / "huggingface";
  for (const auto& entry : fs::recursive_directory_iterator(hf))
  {
    const auto name = entry.path().filename().string();
    const auto extension = entry.path().extension();
    if (extension == ".parquet" || extension == ".arrow")
    {
      seed(extension == ".parquet" ? "parquet" : "arrow_ipc",
        entry.path().parent_path().filename().string() + "-" + name, readFile(entry.path()));
    }
  }
  // A save_to_disk DatasetDict, opened as its folder, its split folder and its .arrow file.
  const fs::path beans = hf / "arrow/save_to_disk/beans";
  for (const char entry : { '\0', '\1', '\2' })
  {
    seed("hugging_face", std::string("beans-") + char('0' + entry),
      std::string(1, entry) +
        joinParts({ readFile(beans / "dataset_dict.json"), readFile(beans / "train/state.json"),
          readFile(beans / "train/dataset_info.json"),
          readFile(beans / "train/data-00000-of-00001.arrow") }));
  }

  return 0;
}
