// CIFAR-10 / CIFAR-100 binary files.
#include "FormatTestUtils.h"

namespace dualembed
{
namespace formats
{
namespace testing
{
namespace
{

void expectHwcPixels(const SampleBlock& block)
{
  ASSERT_EQ(block.pixels.size(), static_cast<std::size_t>(block.count) * 3072);
  for (std::int64_t i = 0; i < block.count; ++i)
  {
    for (int p = 0; p < Plane; ++p)
    {
      for (int c = 0; c < 3; ++c)
      {
        ASSERT_EQ(block.pixels[i * 3072 + p * 3 + c], planeValue(block.first + i, c, p))
          << "sample " << block.first + i << " pixel " << p << " channel " << c;
      }
    }
  }
}

using CifarTest = FormatsTest;

TEST_F(CifarTest, Cifar10ValuesHwcLabelsAndRanges)
{
  std::vector<std::vector<std::uint8_t>> labels;
  for (int i = 0; i < 7; ++i)
  {
    labels.push_back({ static_cast<std::uint8_t>((i * 4) % 10) });
  }
  const auto path = this->file("cifar-10-batches-bin/data_batch_3.bin");
  writeFile(path, cifarRecords(labels));

  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.kind, DatasetKind::Cifar10);
  EXPECT_EQ(info.numberOfSamples, 7);
  EXPECT_EQ(info.height, 32);
  EXPECT_EQ(info.width, 32);
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(info.classNames.size(), 10u);
  EXPECT_EQ(info.classNames[3], "3");
  EXPECT_TRUE(info.coarseClassNames.empty());

  const auto all = readSamples(info, 0, 7);
  expectHwcPixels(all);
  EXPECT_EQ(all.labels, (std::vector<std::int32_t>{ 0, 4, 8, 2, 6, 0, 4 }));
  EXPECT_TRUE(all.coarseLabels.empty());
  expectSliceEquals(info, all, 2, 4);
  expectHwcPixels(readSamples(info, 3, 2));
}

TEST_F(CifarTest, Cifar10NamesFromBatchesMeta)
{
  const auto path = this->file("cifar/test_batch.bin");
  writeFile(path, cifarRecords({ { 1 }, { 9 } }));
  writeText(path.parent_path() / "batches.meta.txt",
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.kind, DatasetKind::Cifar10);
  ASSERT_EQ(info.classNames.size(), 10u);
  EXPECT_EQ(info.classNames[1], "automobile");
  EXPECT_EQ(info.classNames[9], "truck");
}

TEST_F(CifarTest, Cifar10SizeNotMultipleOfRecord)
{
  const auto path = this->file("cifar/data_batch_1.bin");
  auto bytes = cifarRecords({ { 1 }, { 2 }, { 3 } });
  bytes.resize(bytes.size() - 100);
  writeFile(path, bytes);
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "3073 bytes");
}

TEST_F(CifarTest, Cifar10EmptyFile)
{
  const auto path = this->file("cifar/data_batch_1.bin");
  writeFile(path, {});
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
}

TEST_F(CifarTest, Cifar10LabelOutOfRange)
{
  const auto path = this->file("cifar/data_batch_2.bin");
  writeFile(path, cifarRecords({ { 1 }, { 10 } }));
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "label 10 in record 1");
}

TEST_F(CifarTest, Cifar100FineAndCoarseLabels)
{
  std::vector<std::vector<std::uint8_t>> labels;
  for (int i = 0; i < 6; ++i)
  {
    labels.push_back(
      { static_cast<std::uint8_t>(i * 3 % 20), static_cast<std::uint8_t>(i * 17 % 100) });
  }
  const auto path = this->file("cifar-100-binary/train.bin");
  writeFile(path, cifarRecords(labels));
  std::string fine;
  for (int i = 0; i < 100; ++i)
  {
    fine += "fine" + std::to_string(i) + "\n";
  }
  std::string coarse;
  for (int i = 0; i < 20; ++i)
  {
    coarse += "coarse" + std::to_string(i) + "\n";
  }
  writeText(path.parent_path() / "fine_label_names.txt", fine);
  writeText(path.parent_path() / "coarse_label_names.txt", coarse);

  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.kind, DatasetKind::Cifar100);
  EXPECT_EQ(info.numberOfSamples, 6);
  EXPECT_EQ(info.channels, 3);
  ASSERT_EQ(info.classNames.size(), 100u);
  ASSERT_EQ(info.coarseClassNames.size(), 20u);
  EXPECT_EQ(info.classNames[17], "fine17");
  EXPECT_EQ(info.coarseClassNames[19], "coarse19");

  const auto all = readSamples(info, 0, 6);
  expectHwcPixels(all);
  EXPECT_EQ(all.labels, (std::vector<std::int32_t>{ 0, 17, 34, 51, 68, 85 }));
  EXPECT_EQ(all.coarseLabels, (std::vector<std::int32_t>{ 0, 3, 6, 9, 12, 15 }));
  expectSliceEquals(info, all, 1, 3);
}

TEST_F(CifarTest, Cifar100DefaultNames)
{
  const auto path = this->file("c100/test.bin");
  writeFile(path, cifarRecords({ { 19, 99 } }));
  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.classNames.size(), 100u);
  EXPECT_EQ(info.coarseClassNames.size(), 20u);
  EXPECT_EQ(info.classNames[99], "99");
}

TEST_F(CifarTest, Cifar100SizeNotMultipleOfRecord)
{
  const auto path = this->file("c100/train.bin");
  // Two CIFAR-10-sized records: not a multiple of CIFAR-100's 3074 bytes.
  writeFile(path, cifarRecords({ { 1 }, { 2 } }));
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "3074 bytes");
}

TEST_F(CifarTest, Cifar100CoarseLabelOutOfRange)
{
  const auto path = this->file("c100/train.bin");
  writeFile(path, cifarRecords({ { 3, 5 }, { 20, 5 } }));
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "coarse label 20");
}

} // namespace
} // namespace testing
} // namespace formats
} // namespace dualembed
