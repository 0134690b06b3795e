// Command-line driver of the kNN outlier score for BenchmarkOutlierScore.py
// when the ParaView plugin is not built (times the engine directly):
//   BenchmarkOutlierScore <input.npy> <output.npy> [--method exact|flann|ivf]
//                         [--k K] [--threads T] [--indices ids.npy]
//                         [--metric auto|cosine|euclidean]
// input: N x D matrix, float32 ('<f4') or uint8 ('|u1'); output: N float32
// scores (cleanlab formula, metric auto = cosine for D > 3), computed as
// computeEmbeddingOutlierScore does (computeKnn, mean distance,
// outlierScoresFromMeanDistances) so that the neighbour ids can be written
// too (--indices: N x K int32, for the recall of FLANN). Prints one JSON
// line: seconds (the score computation only), peak RSS, the GEMM of the
// exact method and the BLAS that LibTorch runs on.
#include "EmbeddingOutlierScore.h"
#include "EngineThreads.h" // engineLoopThreads
#include "NearestNeighbors.h"
#include "NpyReader.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::writeNpy;

namespace
{

// The OpenBLAS core type and thread count LibTorch runs on, if it is OpenBLAS.
std::string blasDescription()
{
  using NameFn = char* (*)();
  using IntFn = int (*)();
  auto corename = reinterpret_cast<NameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  auto threads = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (!corename)
  {
    return "not OpenBLAS";
  }
  return std::string("OpenBLAS ") + corename() + ", " +
    (threads ? std::to_string(threads()) : std::string("?")) + " threads";
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 3)
  {
    std::cerr << "usage: BenchmarkOutlierScore <input.npy> <output.npy> [--method exact|flann|ivf] "
                 "[--k K] [--threads T]\n";
    return 2;
  }
  OutlierScoreOptions options;
  int threads = 2;
  std::string indicesPath;
  for (int a = 3; a + 1 < argc; a += 2)
  {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--method")
      options.neighbors.method = value == "flann" ? KnnMethod::Flann
        : value == "ivf"                          ? KnnMethod::Ivf
                                                  : KnnMethod::Exact;
    else if (key == "--k")
      options.k = std::stoi(value);
    else if (key == "--threads")
      threads = std::stoi(value);
    else if (key == "--indices")
      indicesPath = value;
    else if (key == "--metric")
      options.metric = value == "cosine" ? MetricChoice::Cosine
        : value == "euclidean"           ? MetricChoice::Euclidean
                                         : MetricChoice::Auto;
    else
    {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  const auto array = dualembed::testdata::readNpy(argv[1]);
  if (array.shape.size() != 2)
  {
    std::cerr << "input must be a 2-D array\n";
    return 2;
  }
  const std::vector<float> values = array.floatValues();
  const FeatureMatrix features{ values.data(), static_cast<int64_t>(array.shape[0]),
    static_cast<int64_t>(array.shape[1]) };
  try
  {
    const auto start = std::chrono::steady_clock::now();
    const DistanceMetric metric = resolveMetric(options.metric, features.cols);
    KnnOptions knnOptions;
    knnOptions.k = options.k;
    knnOptions.metric = metric;
    knnOptions.search = options.neighbors;
    const KnnResult knn = computeKnn(features, knnOptions);
    const std::size_t k = static_cast<std::size_t>(knn.k);
    std::vector<double> mean(static_cast<std::size_t>(knn.rows), 0.0);
    for (std::size_t i = 0; i < mean.size(); ++i)
    {
      double sum = 0.0;
      for (std::size_t j = 0; j < k; ++j)
      {
        sum += static_cast<double>(knn.distances[i * k + j]);
      }
      mean[i] = sum / static_cast<double>(k);
    }
    const std::vector<float> score =
      outlierScoresFromMeanDistances(mean, metric, options.t, options.scaling);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    writeNpy(argv[2], score, "<f4", std::to_string(score.size()) + ",");
    if (!indicesPath.empty())
    {
      const std::vector<int32_t> ids(knn.indices.begin(), knn.indices.end());
      writeNpy(indicesPath, ids, "<i4", std::to_string(knn.rows) + ", " + std::to_string(k));
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    std::printf("{\"seconds\": %.3f, \"peak_mb\": %.1f, \"threads\": %d, \"loop_threads\": %d, "
                "\"method\": \"%s\", "
                "\"metric\": \"%s\", \"k\": %d, \"brute_force_rows\": %lld, \"gemm\": \"%s\", "
                "\"blas\": \"%s\"}\n",
      seconds, usage.ru_maxrss / 1024.0, at::get_num_threads(), engineLoopThreads(),
      knnMethodName(knn.method), metricName(metric), knn.k,
      static_cast<long long>(knn.bruteForceRows), exactKnnGemmName(), blasDescription().c_str());
  }
  catch (const std::exception& e)
  {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
