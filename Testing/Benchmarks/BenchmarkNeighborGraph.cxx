// The all-points k-nearest-neighbour graph of an N x D float32 .npy file
// (memory-mapped, so 10^6 x 768 needs no 3 GB copy to be read) through the
// engine's computeKnn, and its recall@k measured against exact neighbours on
// random rows (estimateRecall). A benchmark, not a test:
//   BenchmarkNeighborGraph <input.npy> [--method exact|ivf|flann] [--k 10]
//       [--lists 0] [--probes 16] [--rows N] [--threads 2] [--metric auto|cosine|euclidean]
//       [--recall-samples 1000] [--indices out.npy]
// Prints the CPU and one JSON line: seconds of the graph, seconds of the
// recall estimate, recall, peak RSS (MB) and the parameters.
#include "EngineThreads.h" // engineLoopThreads
#include "NearestNeighbors.h"
#include "NpyReader.h" // writeNpy

#include <ATen/Parallel.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace dualembed::engine;

namespace
{

/// A read-only mapping of a C-order '<f4' .npy matrix.
struct MappedMatrix
{
  const float* data = nullptr;
  int64_t rows = 0, cols = 0;
  void* base = nullptr;
  std::size_t length = 0;

  explicit MappedMatrix(const std::string& path)
  {
    const int fd = open(path.c_str(), O_RDONLY);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0)
    {
      throw std::runtime_error("cannot open " + path);
    }
    length = static_cast<std::size_t>(info.st_size);
    base = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
    {
      throw std::runtime_error("cannot map " + path);
    }
    const char* bytes = static_cast<const char*>(base);
    if (length < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
    {
      throw std::runtime_error(path + " is not a .npy file");
    }
    const bool version1 = bytes[6] == 1;
    std::size_t headerLength = 0, offset = 0;
    if (version1)
    {
      headerLength = static_cast<unsigned char>(bytes[8]) |
        (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
      offset = 10;
    }
    else
    {
      std::uint32_t h;
      std::memcpy(&h, bytes + 8, 4);
      headerLength = h;
      offset = 12;
    }
    const std::string header(bytes + offset, headerLength);
    if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    {
      throw std::runtime_error(path + " must hold a C-order float32 ('<f4') matrix: " + header);
    }
    const std::size_t open = header.find('('), comma = header.find(',', open);
    rows = std::stoll(header.substr(open + 1, comma - open - 1));
    cols = std::stoll(header.substr(comma + 1));
    data = reinterpret_cast<const float*>(bytes + offset + headerLength);
    if (offset + headerLength + static_cast<std::size_t>(rows * cols) * 4 > length)
    {
      throw std::runtime_error(path + " is truncated");
    }
  }
  ~MappedMatrix() { munmap(base, length); }
};

std::string cpuName()
{
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line))
  {
    if (line.rfind("model name", 0) == 0)
    {
      return line.substr(line.find(':') + 2);
    }
  }
  return "unknown CPU";
}

/// Peak resident memory of this program in MB (VmHWM: the memory of this
/// process image, unlike getrusage's maxrss, which keeps the parent's peak
/// across fork and exec).
double peakMegabytes()
{
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
  {
    if (line.rfind("VmHWM:", 0) == 0)
    {
      return std::stod(line.substr(6)) / 1024.0;
    }
  }
  return -1.0;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 2)
  {
    std::cerr << "usage: BenchmarkNeighborGraph <input.npy> [--method exact|ivf|flann] [--k K] "
                 "[--lists L] [--probes P] [--rows N] [--threads T] [--metric M] "
                 "[--recall-samples S] [--indices out.npy]\n";
    return 2;
  }
  KnnOptions options;
  options.search.method = KnnMethod::Exact;
  options.search.recallSamples = 0; // measured below, timed apart
  int threads = 2;
  int64_t rows = -1, recallSamples = 1000;
  MetricChoice metric = MetricChoice::Auto;
  std::string indicesPath;
  for (int a = 2; a + 1 < argc; a += 2)
  {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--method")
      options.search.method = value == "ivf" ? KnnMethod::Ivf
        : value == "flann"                   ? KnnMethod::Flann
                                             : KnnMethod::Exact;
    else if (key == "--k")
      options.k = std::stoi(value);
    else if (key == "--lists")
      options.search.ivf.lists = std::stoi(value);
    else if (key == "--probes")
      options.search.ivf.probes = std::stoi(value);
    else if (key == "--rows")
      rows = std::stoll(value);
    else if (key == "--threads")
      threads = std::stoi(value);
    else if (key == "--recall-samples")
      recallSamples = std::stoll(value);
    else if (key == "--indices")
      indicesPath = value;
    else if (key == "--metric")
      metric = value == "cosine" ? MetricChoice::Cosine
        : value == "euclidean"   ? MetricChoice::Euclidean
                                 : MetricChoice::Auto;
    else
    {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  try
  {
    at::set_num_threads(threads);
    const MappedMatrix matrix(argv[1]);
    const FeatureMatrix points{ matrix.data, rows > 0 ? std::min(rows, matrix.rows) : matrix.rows,
      matrix.cols };
    options.metric = resolveMetric(metric, points.cols);
    std::printf("CPU: %s, %d threads; %lld x %lld %s, k %d, %s\n", cpuName().c_str(),
      at::get_num_threads(), static_cast<long long>(points.rows),
      static_cast<long long>(points.cols), metricName(options.metric), options.k,
      knnMethodName(options.search.method));
    std::fflush(stdout);
    auto start = std::chrono::steady_clock::now();
    const KnnResult graph = computeKnn(points, options);
    const double graphSeconds = secondsSince(start);
    start = std::chrono::steady_clock::now();
    const double recall = options.search.method == KnnMethod::Exact
      ? 1.0
      : estimateRecall(points, graph, options.metric, recallSamples, 1);
    const double recallSeconds = secondsSince(start);
    if (!indicesPath.empty())
    {
      const std::vector<int32_t> ids(graph.indices.begin(), graph.indices.end());
      dualembed::testdata::writeNpy(
        indicesPath, ids, "<i4", std::to_string(graph.rows) + ", " + std::to_string(graph.k));
    }
    std::printf("{\"method\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"k\": %d, \"lists\": %lld, "
                "\"probes\": %d, \"seconds\": %.2f, \"recall\": %.4f, \"recall_samples\": %lld, "
                "\"recall_seconds\": %.2f, \"peak_mb\": %.0f, \"threads\": %d, \"loop_threads\": "
                "%d, \"gemm\": \"%s\"}\n",
      knnMethodName(options.search.method), static_cast<long long>(points.rows),
      static_cast<long long>(points.cols), graph.k, static_cast<long long>(graph.lists),
      options.search.ivf.probes, graphSeconds, recall, static_cast<long long>(recallSamples),
      recallSeconds, peakMegabytes(), at::get_num_threads(), engineLoopThreads(),
      exactKnnGemmName());
  }
  catch (const std::exception& e)
  {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
