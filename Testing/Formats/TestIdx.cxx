// MNIST / Fashion-MNIST IDX files.
#include "FormatTestUtils.h"

#include "../MemoryCap.h"

#include <algorithm>
#include <fstream>
#include <map>

namespace dualembed
{
namespace formats
{
namespace testing
{
using dualembed::testing::MemoryCap;
namespace
{

constexpr std::uint32_t N = 25;
constexpr std::uint32_t H = 4;
constexpr std::uint32_t W = 3;

std::vector<std::uint8_t> testLabels(std::uint32_t n = N, int classes = 10)
{
  std::vector<std::uint8_t> labels;
  for (std::uint32_t i = 0; i < n; ++i)
  {
    labels.push_back(static_cast<std::uint8_t>((i * 3) % classes));
  }
  return labels;
}

class IdxTest : public FormatsTest
{
protected:
  /// Writes <dir>/<subdir>/train-{images,labels}-... with the given suffix (".gz" or "").
  fs::path writeSet(const std::string& suffix, const std::string& subdir = "mnist")
  {
    const auto images = this->file(subdir + "/train-images-idx3-ubyte" + suffix);
    writeFile(images, idxImages(N, H, W));
    writeFile(this->file(subdir + "/train-labels-idx1-ubyte" + suffix), idxLabels(N, testLabels()));
    return images;
  }

  void checkFullRead(const fs::path& images)
  {
    const auto info = probeDataset(images.string());
    EXPECT_EQ(info.kind, DatasetKind::Idx);
    EXPECT_EQ(info.path, images.string());
    EXPECT_EQ(info.numberOfSamples, N);
    EXPECT_EQ(info.height, int(H));
    EXPECT_EQ(info.width, int(W));
    EXPECT_EQ(info.channels, 1);
    EXPECT_TRUE(info.files.empty());

    const auto block = readSamples(info, 0, N);
    EXPECT_EQ(block.first, 0);
    EXPECT_EQ(block.count, N);
    ASSERT_EQ(block.pixels.size(), std::size_t(N) * H * W);
    for (std::int64_t i = 0; i < N; ++i)
    {
      for (std::int64_t j = 0; j < H * W; ++j)
      {
        ASSERT_EQ(block.pixels[i * H * W + j], pixelValue(i, j)) << "sample " << i << " byte " << j;
      }
    }
    const auto expected = testLabels();
    EXPECT_EQ(block.labels, std::vector<std::int32_t>(expected.begin(), expected.end()));
    EXPECT_TRUE(block.coarseLabels.empty());
    EXPECT_TRUE(block.files.empty());

    expectSliceEquals(info, block, 7, 11);
    expectSliceEquals(info, block, 0, 1);
    expectSliceEquals(info, block, N - 1, 1);
    expectSliceEquals(info, block, 5, 0);
  }
};

TEST_F(IdxTest, RawValuesLabelsShapeAndRanges)
{
  const auto images = this->writeSet("");
  this->checkFullRead(images);
  EXPECT_EQ(probeDataset(images.string()).labelPath,
    (images.parent_path() / "train-labels-idx1-ubyte").string());
}

TEST_F(IdxTest, GzipValuesLabelsShapeAndRanges)
{
  const auto images = this->writeSet(".gz");
  this->checkFullRead(images);
  EXPECT_EQ(probeDataset(images.string()).labelPath,
    (images.parent_path() / "train-labels-idx1-ubyte.gz").string());
}

TEST_F(IdxTest, DotSeparatedNaming)
{
  const auto images = this->file("mnist/t10k-images.idx3-ubyte");
  writeFile(images, idxImages(N, H, W));
  writeFile(this->file("mnist/t10k-labels.idx1-ubyte"), idxLabels(N, testLabels()));
  this->checkFullRead(images);
}

TEST_F(IdxTest, LabelsWithOtherCompression)
{
  const auto images = this->file("mnist/train-images-idx3-ubyte.gz");
  writeFile(images, idxImages(N, H, W));
  const auto labels = this->file("mnist/train-labels-idx1-ubyte");
  writeFile(labels, idxLabels(N, testLabels()));
  EXPECT_EQ(probeDataset(images.string()).labelPath, labels.string());
  this->checkFullRead(images);
}

TEST_F(IdxTest, SameCompressionPreferred)
{
  const auto images = this->writeSet(".gz");
  // A raw labels file of another length beside it must not be picked.
  writeFile(this->file("mnist/train-labels-idx1-ubyte"), idxLabels(3, { 1, 2, 3 }));
  EXPECT_EQ(probeDataset(images.string()).labelPath,
    (images.parent_path() / "train-labels-idx1-ubyte.gz").string());
}

TEST_F(IdxTest, ClassNamesFromClassesTxt)
{
  const auto images = this->writeSet("");
  writeText(images.parent_path() / "classes.txt",
    "zero\none\r\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n  nine  \n\n");
  const auto info = probeDataset(images.string());
  ASSERT_EQ(info.classNames.size(), 10u);
  EXPECT_EQ(info.classNames[0], "zero");
  EXPECT_EQ(info.classNames[1], "one");
  EXPECT_EQ(info.classNames[9], "nine");
}

TEST_F(IdxTest, ClassNamesTxtTooShort)
{
  const auto images = this->writeSet("");
  writeText(images.parent_path() / "classes.txt", "a\nb\nc\n");
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "classes.txt");
}

TEST_F(IdxTest, ClassNamesFashionDirectory)
{
  const auto images = this->writeSet(".gz", "My-FASHION-data");
  const auto info = probeDataset(images.string());
  EXPECT_EQ(info.classNames,
    (std::vector<std::string>{ "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
      "Shirt", "Sneaker", "Bag", "Ankle boot" }));
}

TEST_F(IdxTest, ClassNamesTorchvisionFashionLayout)
{
  const auto images = this->writeSet(".gz", "FashionMNIST/raw");
  EXPECT_EQ(probeDataset(images.string()).classNames.at(9), "Ankle boot");
}

TEST_F(IdxTest, ClassNamesDefault)
{
  const auto images = this->writeSet("");
  EXPECT_EQ(probeDataset(images.string()).classNames,
    (std::vector<std::string>{ "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }));

  // Fewer than 10 labels used: still 10 names. More: max label + 1 names.
  writeFile(this->file("few/train-images-idx3-ubyte"), idxImages(N, H, W));
  writeFile(this->file("few/train-labels-idx1-ubyte"), idxLabels(N, testLabels(N, 3)));
  EXPECT_EQ(
    probeDataset((this->dir / "few/train-images-idx3-ubyte").string()).classNames.size(), 10u);

  auto many = testLabels();
  many[4] = 12;
  writeFile(this->file("many/train-images-idx3-ubyte"), idxImages(N, H, W));
  writeFile(this->file("many/train-labels-idx1-ubyte"), idxLabels(N, many));
  const auto names = probeDataset((this->dir / "many/train-images-idx3-ubyte").string()).classNames;
  ASSERT_EQ(names.size(), 13u);
  EXPECT_EQ(names.back(), "12");
}

TEST_F(IdxTest, WrongImagesMagic)
{
  const auto images = this->writeSet("");
  writeFile(images, idxImages(N, H, W, -1, 0x00000804));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "magic number 0x00000804");
}

TEST_F(IdxTest, WrongLabelsMagic)
{
  const auto images = this->writeSet(".gz");
  const auto labels = images.parent_path() / "train-labels-idx1-ubyte.gz";
  writeFile(labels, idxLabels(N, testLabels(), 0x00000803));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), labels.string());
}

TEST_F(IdxTest, TruncatedImagesRaw)
{
  const auto images = this->writeSet("");
  writeFile(images, idxImages(N, H, W, 10));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
  EXPECT_FORMAT_ERROR(probeDataset(images.string()),
    "is truncated: expected " + std::to_string(N * H * W) + " bytes of pixels, found " +
      std::to_string(10 * H * W));
}

TEST_F(IdxTest, TruncatedImagesGzipStream)
{
  // A complete header announcing fewer bytes than stored, compressed properly...
  const auto images = this->writeSet(".gz");
  writeFile(images, idxImages(N, H, W, 10));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
  // ...and a .gz file cut in the middle of its compressed stream.
  writeFile(images, idxImages(N, 64, 64));
  truncateFile(images, fs::file_size(images) / 2);
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "truncated");
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
}

TEST_F(IdxTest, ImagesLongerThanHeader)
{
  const auto images = this->writeSet("");
  auto bytes = idxImages(N, H, W);
  bytes.push_back(0);
  writeFile(images, bytes);
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
}

TEST_F(IdxTest, TruncatedLabels)
{
  for (const std::string suffix : { "", ".gz" })
  {
    const auto images = this->writeSet(suffix);
    const auto labels = images.parent_path() / ("train-labels-idx1-ubyte" + suffix);
    auto shortLabels = testLabels();
    shortLabels.resize(10);
    writeFile(labels, idxLabels(N, shortLabels));
    EXPECT_FORMAT_ERROR(probeDataset(images.string()), labels.string());
    EXPECT_FORMAT_ERROR(probeDataset(images.string()), "truncated");
  }
}

TEST_F(IdxTest, MissingLabelsFile)
{
  const auto images = this->file("mnist/train-images-idx3-ubyte.gz");
  writeFile(images, idxImages(N, H, W));
  // The message names the labels file it looked for (same compression first).
  EXPECT_FORMAT_ERROR(
    probeDataset(images.string()), (images.parent_path() / "train-labels-idx1-ubyte.gz").string());
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
}

TEST_F(IdxTest, LabelsOfAnotherLength)
{
  const auto images = this->writeSet("");
  const auto labels = images.parent_path() / "train-labels-idx1-ubyte";
  writeFile(labels, idxLabels(N - 5, testLabels(N - 5)));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), labels.string());
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), std::to_string(N - 5) + " labels");
}

TEST_F(IdxTest, LabelOutsideFashionClasses)
{
  auto labels = testLabels();
  labels[3] = 10;
  const auto images = this->file("fashion/train-images-idx3-ubyte");
  writeFile(images, idxImages(N, H, W));
  writeFile(this->file("fashion/train-labels-idx1-ubyte"), idxLabels(N, labels));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "train-labels-idx1-ubyte");
}

TEST_F(IdxTest, LabelsFileOpenedInsteadOfImages)
{
  const auto images = this->writeSet("");
  const auto labels = images.parent_path() / "train-labels-idx1-ubyte";
  EXPECT_FORMAT_ERROR(probeDataset(labels.string()), labels.string());
  EXPECT_FORMAT_ERROR(probeDataset(labels.string()), "labels file");
}

TEST_F(IdxTest, ZeroImages)
{
  const auto images = this->file("mnist/train-images-idx3-ubyte");
  writeFile(images, idxImages(0, H, W));
  writeFile(this->file("mnist/train-labels-idx1-ubyte"), idxLabels(0, {}));
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), images.string());
}

// The real Fashion-MNIST test set, installed by Scripts/install-dependencies.sh
// (Debian package dataset-fashion-mnist). Required: a missing package fails the test.
TEST(FashionMnistPackage, T10kImages)
{
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  ASSERT_TRUE(fs::is_regular_file(path))
    << path << " is missing; install the Debian package dataset-fashion-mnist "
    << "(Scripts/install-dependencies.sh does).";
  const auto info = probeDataset(path);
  EXPECT_EQ(info.kind, DatasetKind::Idx);
  EXPECT_EQ(info.labelPath, "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(info.numberOfSamples, 10000);
  EXPECT_EQ(info.height, 28);
  EXPECT_EQ(info.width, 28);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.classNames,
    (std::vector<std::string>{ "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
      "Shirt", "Sneaker", "Bag", "Ankle boot" }));

  const auto all = readSamples(info, 0, info.numberOfSamples);
  ASSERT_EQ(all.pixels.size(), 10000u * 28 * 28);
  ASSERT_EQ(all.labels.size(), 10000u);
  std::map<int, int> perClass;
  for (const auto label : all.labels)
  {
    ++perClass[label];
  }
  ASSERT_EQ(perClass.size(), 10u);
  for (const auto& [label, count] : perClass)
  {
    EXPECT_EQ(count, 1000) << "class " << label;
  }
  EXPECT_EQ(all.labels[0], 9); // the first test image is an ankle boot
  EXPECT_EQ(all.labels[1], 2);
  EXPECT_GT(*std::max_element(all.pixels.begin(), all.pixels.begin() + 784), 200);
  expectSliceEquals(info, all, 4321, 17);
}

} // namespace
// Found by Testing/Fuzz: the gzip trailer (ISIZE) was trusted as the data size,
// so a 4 KiB file announcing 2^31 - 1 images of 1 pixel, whose trailer matches
// that size, made the reader allocate 2 GiB for the labels before failing.
TEST_F(IdxTest, GzipTrailerIsNotTrustedForSizes)
{
  const std::uint32_t count = 0x7FFFFFFF;
  const auto images = this->file("hostile/t10k-images-idx3-ubyte.gz");
  // 1 MiB of pixels: zlib then reads the header without reaching the trailer.
  writeFile(images, idxImages(count, 1, 1, 1 << 20));
  // ISIZE = the size the header announces (16 + 2^31 - 1, modulo 2^32).
  {
    std::fstream patch(images, std::ios::in | std::ios::out | std::ios::binary);
    patch.seekp(-4, std::ios::end);
    const std::uint32_t isize = 16u + count;
    const char bytes[4] = { char(isize & 0xFF), char((isize >> 8) & 0xFF),
      char((isize >> 16) & 0xFF), char(isize >> 24) };
    patch.write(bytes, 4);
  }
  writeFile(this->file("hostile/t10k-labels-idx1-ubyte.gz"),
    idxLabels(count, std::vector<std::uint8_t>(4096, 1)));
  MemoryCap cap(1ull << 30);
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "is damaged");
  EXPECT_FORMAT_ERROR(probeDataset(images.string()), "t10k-images-idx3-ubyte.gz");
}

} // namespace testing
} // namespace formats
} // namespace dualembed
