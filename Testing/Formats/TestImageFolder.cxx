// Image folders root/<class>/<image> (torchvision ImageFolder order).
#include "FormatTestUtils.h"

namespace dualembed
{
namespace formats
{
namespace testing
{
namespace
{

class ImageFolderTest : public FormatsTest
{
protected:
  void touch(const std::string& relative)
  {
    writeText(this->file(relative), "not really an image");
  }

  /// root/{B,a,empty,z}/...: byte order puts "B" before "a".
  fs::path makeTree()
  {
    const std::string root = "root/";
    this->touch(root + "a/2.png");
    this->touch(root + "a/10.png");
    this->touch(root + "a/Z.JPG");
    this->touch(root + "a/notes.txt");
    this->touch(root + "a/sub/e.jpeg");
    this->touch(root + "a/sub/deeper/f.bmp");
    this->touch(root + "a/sub-x/g.png");
    this->touch(root + "B/x.Png");
    this->touch(root + "B/readme.md");
    fs::create_directories(this->dir / root / "empty");
    this->touch(root + "z/y.jpg");
    this->touch(root + "stray.png"); // not in a class folder: ignored
    return this->dir / "root";
  }
};

TEST_F(ImageFolderTest, ClassesAndFilesSortedLikeTorchvision)
{
  const auto root = this->makeTree();
  const auto info = probeDataset(root.string());
  EXPECT_EQ(info.kind, DatasetKind::ImageFolder);
  EXPECT_EQ(info.path, root.string());
  EXPECT_EQ(info.height, 0);
  EXPECT_EQ(info.width, 0);
  EXPECT_EQ(info.channels, 0);
  // Every class folder counts, also one without images (torchvision's class_to_idx).
  EXPECT_EQ(info.classNames, (std::vector<std::string>{ "B", "a", "empty", "z" }));
  const auto r = root.string() + "/";
  const std::vector<std::string> files = { r + "B/x.Png", r + "a/10.png", r + "a/2.png",
    r + "a/Z.JPG", r + "a/sub/e.jpeg", r + "a/sub-x/g.png", r + "a/sub/deeper/f.bmp",
    r + "z/y.jpg" };
  EXPECT_EQ(info.files, files);
  EXPECT_EQ(info.folderLabels, (std::vector<std::int32_t>{ 0, 1, 1, 1, 1, 1, 1, 3 }));
  EXPECT_EQ(info.numberOfSamples, 8);

  const auto all = readSamples(info, 0, 8);
  EXPECT_TRUE(all.pixels.empty());
  EXPECT_EQ(all.files, files);
  EXPECT_EQ(all.labels, info.folderLabels);
  expectSliceEquals(info, all, 2, 5);
  expectSliceEquals(info, all, 7, 1);
}

TEST_F(ImageFolderTest, OpenedThroughAnImageOrWithTrailingSlash)
{
  const auto root = this->makeTree();
  const auto fromRoot = probeDataset(root.string());
  for (const auto& path : { (root / "a/2.png").string(), root.string() + "/" })
  {
    const auto info = probeDataset(path);
    EXPECT_EQ(info.path, root.string()) << path;
    EXPECT_EQ(info.files, fromRoot.files) << path;
    EXPECT_EQ(info.classNames, fromRoot.classNames) << path;
  }
}

TEST_F(ImageFolderTest, EmptyFolder)
{
  fs::create_directories(this->dir / "root");
  EXPECT_FORMAT_ERROR(probeDataset((this->dir / "root").string()), (this->dir / "root").string());
  EXPECT_FORMAT_ERROR(probeDataset((this->dir / "root").string()), "no class subfolders");
}

TEST_F(ImageFolderTest, OnlyNonImageFiles)
{
  this->touch("root/cats/a.txt");
  this->touch("root/dogs/b.tif");
  this->touch("root/dogs/png");
  const auto root = (this->dir / "root").string();
  EXPECT_FORMAT_ERROR(probeDataset(root), root);
  EXPECT_FORMAT_ERROR(probeDataset(root), "no images");
}

TEST_F(ImageFolderTest, ImagesWithoutClassFolders)
{
  this->touch("flat/a.png");
  this->touch("flat/b.png");
  const auto root = (this->dir / "flat").string();
  EXPECT_FORMAT_ERROR(probeDataset(root), root);
  EXPECT_FORMAT_ERROR(probeDataset(root), "class folder, open its parent");
}

TEST(ImageFileNames, Extensions)
{
  for (const char* name : { "a.png", "b.PNG", "c.jpg", "d.JpEg", "e.bmp", "/x/y/f.jpeg" })
  {
    EXPECT_TRUE(isImageFileName(name)) << name;
  }
  for (const char* name : { "a.txt", "b.tif", "c.png.txt", "png", "d.gif", "", "/x.png/y" })
  {
    EXPECT_FALSE(isImageFileName(name)) << name;
  }
}

} // namespace
} // namespace testing
} // namespace formats
} // namespace dualembed
