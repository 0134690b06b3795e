// Format dispatch and range checks common to every format.
#include "FormatTestUtils.h"

namespace dualembed
{
namespace formats
{
namespace testing
{
namespace
{

using DatasetTest = FormatsTest;

TEST_F(DatasetTest, NonexistentPath)
{
  const auto path = (this->dir / "nowhere" / "train-images-idx3-ubyte.gz").string();
  EXPECT_FORMAT_ERROR(probeDataset(path), path);
  EXPECT_FORMAT_ERROR(probeDataset(path), "does not exist");
  EXPECT_FORMAT_ERROR(probeDataset(""), "No dataset file name");
}

TEST_F(DatasetTest, UnknownFormatListsSupportedOnes)
{
  const auto path = this->file("data.npy");
  writeText(path, "x");
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
  for (const char* format : { "IDX", "CIFAR-10", "CIFAR-100", "HDF5", "image folders" })
  {
    EXPECT_FORMAT_ERROR(probeDataset(path.string()), format);
  }
}

TEST_F(DatasetTest, ReadSamplesOutOfRange)
{
  const auto images = this->file("m/train-images-idx3-ubyte");
  writeFile(images, idxImages(5, 2, 2));
  writeFile(this->file("m/train-labels-idx1-ubyte"), idxLabels(5, { 0, 1, 2, 3, 4 }));
  const auto info = probeDataset(images.string());
  EXPECT_FORMAT_ERROR(readSamples(info, -1, 2), images.string());
  EXPECT_FORMAT_ERROR(readSamples(info, 0, -1), images.string());
  EXPECT_FORMAT_ERROR(readSamples(info, 4, 2), images.string());
  EXPECT_FORMAT_ERROR(readSamples(info, 6, 0), "has 5 samples");
  EXPECT_FORMAT_ERROR(readSamples(info, 1, INT64_MAX), images.string());
  EXPECT_EQ(readSamples(info, 5, 0).count, 0);
  EXPECT_EQ(readSamples(info, 0, 5).labels.size(), 5u);
}

TEST_F(DatasetTest, ReadSamplesOutOfRangeImageFolder)
{
  writeText(this->file("root/c/a.png"), "x");
  const auto info = probeDataset((this->dir / "root").string());
  EXPECT_FORMAT_ERROR(readSamples(info, 0, 2), (this->dir / "root").string());
}

TEST(DatasetKindNames, AllKinds)
{
  EXPECT_STREQ(datasetKindName(DatasetKind::Idx), "IDX");
  EXPECT_STREQ(datasetKindName(DatasetKind::Cifar10), "CIFAR-10");
  EXPECT_STREQ(datasetKindName(DatasetKind::Cifar100), "CIFAR-100");
  EXPECT_STREQ(datasetKindName(DatasetKind::ImageFolder), "image folder");
  EXPECT_STREQ(datasetKindName(DatasetKind::Hdf5), "HDF5");
}

} // namespace
} // namespace testing
} // namespace formats
} // namespace dualembed
