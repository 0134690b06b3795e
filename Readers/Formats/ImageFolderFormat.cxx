#include "ImageFolderFormat.h"

#include "FormatUtil.h"

#include <algorithm>
#include <system_error>

namespace dualembed
{
namespace formats
{
namespace detail
{
namespace
{

namespace fs = std::filesystem;

bool isDirectory(const fs::path& path)
{
  std::error_code error;
  return fs::is_directory(path, error);
}

[[noreturn]] void failListing(const fs::path& path, const std::error_code& error)
{
  fail("The folder " + quoted(path) + " cannot be listed: " + error.message() + ".");
}

/// Sorted names of the entries of `directory` that are (or are not) directories.
std::vector<std::string> listEntries(const fs::path& directory, bool directories)
{
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(directory, error);
  if (error)
  {
    failListing(directory, error);
  }
  for (; it != fs::directory_iterator(); it.increment(error))
  {
    if (error)
    {
      failListing(directory, error);
    }
    if (isDirectory(it->path()) == directories)
    {
      names.push_back(it->path().filename().string());
    }
  }
  if (error)
  {
    failListing(directory, error);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Images under `classDirectory` in torchvision's order: sorted(os.walk(...)) visits folders in
/// sorted order of their path strings (following links), each folder's files sorted by name.
void collectImages(const fs::path& classDirectory, std::vector<std::string>& files)
{
  constexpr std::ptrdiff_t MaxDepth = 64;
  const auto baseDepth = std::distance(classDirectory.begin(), classDirectory.end());
  std::vector<fs::path> folders;
  std::vector<fs::path> pending = { classDirectory };
  while (!pending.empty())
  {
    auto folder = pending.back();
    pending.pop_back();
    if (std::distance(folder.begin(), folder.end()) - baseDepth > MaxDepth)
    {
      fail("The class folder " + quoted(classDirectory) + " is nested more than " +
        std::to_string(MaxDepth) + " levels deep; it probably holds a link to itself.");
    }
    for (const auto& name : listEntries(folder, true))
    {
      pending.push_back(folder / name);
    }
    folders.push_back(std::move(folder));
  }
  std::sort(folders.begin(), folders.end(),
    [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  for (const auto& folder : folders)
  {
    for (const auto& name : listEntries(folder, false))
    {
      if (isImageFileName(name))
      {
        files.push_back((folder / name).string());
      }
    }
  }
}

} // namespace

DatasetInfo probeImageFolder(const fs::path& path)
{
  std::error_code error;
  auto absolute = fs::absolute(path, error).lexically_normal();
  if (error)
  {
    fail("The path " + quoted(path) + " cannot be resolved: " + error.message() + ".");
  }
  if (!absolute.has_filename())
  {
    absolute = absolute.parent_path(); // "root/" -> "root"
  }
  fs::path root = absolute;
  if (!isDirectory(absolute))
  {
    // An image inside root/<class>/: root is the parent of its class folder.
    root = absolute.parent_path().parent_path();
    if (root.empty() || root == absolute.parent_path())
    {
      fail("The image " + quoted(path) + " is not inside an image folder laid out as " +
        "<root>/<class>/<image>; open the root folder instead.");
    }
  }

  DatasetInfo info;
  info.kind = DatasetKind::ImageFolder;
  info.path = root.string();

  const auto classes = listEntries(root, true);
  if (classes.empty())
  {
    const auto files = listEntries(root, false);
    const bool hasImages = std::any_of(files.begin(), files.end(), isImageFileName);
    fail("The image folder " + quoted(root) + " has no class subfolders; " +
      (hasImages ? std::string("its images must be sorted into one subfolder per class ") +
            "(<root>/<class>/<image>), or, if this is a class folder, open its parent."
                 : std::string("an image folder holds one subfolder per class with the images ") +
            "of that class (<root>/<class>/<image>)."));
  }

  for (std::size_t label = 0; label < classes.size(); ++label)
  {
    collectImages(root / classes[label], info.files);
    info.folderLabels.resize(info.files.size(), static_cast<std::int32_t>(label));
  }
  if (info.files.empty())
  {
    const bool one = classes.size() == 1;
    fail("The image folder " + quoted(root) + " has " + std::to_string(classes.size()) +
      (one ? " class subfolder but no images in it" : " class subfolders but no images in them") +
      "; only .png, .jpg, .jpeg and .bmp files are read.");
  }
  info.classNames = classes;
  info.numberOfSamples = static_cast<std::int64_t>(info.files.size());
  return info;
}

SampleBlock readImageFolder(const DatasetInfo& info, std::int64_t first, std::int64_t count)
{
  if (info.files.size() != static_cast<std::size_t>(info.numberOfSamples) ||
    info.folderLabels.size() != info.files.size())
  {
    fail("The image folder " + quoted(info.path) +
      " was not listed completely (file and label lists disagree); open it again.");
  }
  SampleBlock block;
  block.first = first;
  block.count = count;
  block.files.assign(info.files.begin() + first, info.files.begin() + first + count);
  block.labels.assign(info.folderLabels.begin() + first, info.folderLabels.begin() + first + count);
  return block;
}

} // namespace detail
} // namespace formats
} // namespace dualembed
