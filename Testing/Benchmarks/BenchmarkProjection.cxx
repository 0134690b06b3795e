// Command-line driver of the projection engine for BenchmarkProjection.py:
//   BenchmarkProjection <umap|tsne|pca> <input.npy> <output.npy> [options]
// input: N x D matrix, float32 ('<f4') or uint8 ('|u1'); output: N x dims
// float32. Options: --threads T (ATen threads, default 2), --dims 2|3,
// --epochs E, --seed S, --pca-neighbors P (-1 auto, 0 off), --knn exact|flann,
// --metric euclidean|cosine, --init auto|spectral|pca|random.
// Prints one JSON line with the time and the diagnostics.
#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "EngineThreads.h" // engineLoopThreads
#include "NpyReader.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace dualembed::engine;

using dualembed::testdata::writeNpy;

int main(int argc, char** argv)
{
  if (argc < 4)
  {
    std::cerr << "usage: BenchmarkProjection <umap|tsne|pca> <input.npy> <output.npy> [options]\n";
    return 2;
  }
  ProjectionOptions options;
  const std::string method = argv[1];
  options.method = method == "umap"
    ? ProjectionMethod::Umap
    : (method == "tsne" ? ProjectionMethod::Tsne : ProjectionMethod::Pca);
  int threads = 2;
  for (int a = 4; a + 1 < argc; a += 2)
  {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--threads")
      threads = std::stoi(value);
    else if (key == "--dims")
      options.dimensions = std::stoi(value);
    else if (key == "--epochs")
      options.epochs = std::stoi(value);
    else if (key == "--seed")
      options.seed = std::stoull(value);
    else if (key == "--pca-neighbors")
      options.pcaComponentsForNeighbors = std::stoi(value);
    else if (key == "--knn")
      options.neighborSearch.method = value == "flann" ? KnnMethod::Flann
        : value == "ivf"                               ? KnnMethod::Ivf
                                                       : KnnMethod::Exact;
    else if (key == "--metric")
      options.metric = value == "cosine" ? MetricChoice::Cosine : MetricChoice::Euclidean;
    else if (key == "--init")
      options.init = value == "spectral" ? ProjectionInit::Spectral
        : value == "pca"                 ? ProjectionInit::Pca
        : value == "random"              ? ProjectionInit::Random
                                         : ProjectionInit::Auto;
    else
    {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  const auto array = dualembed::testdata::readNpy(argv[2]);
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
    const ProjectionResult result = computeEmbeddingProjection(features, options);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    writeNpy(argv[3], result.coordinates, result.rows, result.dimensions);
    std::printf("{\"method\": \"%s\", \"seconds\": %.3f, \"threads\": %d, \"loop_threads\": %d, "
                "\"init\": \"%s\", "
                "\"neighbors\": \"%s\", \"epochs\": %d, \"a\": %.6f, \"b\": %.6f, \"edges\": %lld, "
                "\"components\": %d, \"stages\": {",
      projectionMethodName(options.method), seconds, threads, engineLoopThreads(),
      result.initUsed.c_str(), result.neighborsUsed.c_str(), result.epochs, result.a, result.b,
      static_cast<long long>(result.graphEdges), result.graphComponents);
    for (size_t s = 0; s < result.stageSeconds.size(); ++s)
    {
      std::printf("%s\"%s\": %.3f", s ? ", " : "", result.stageSeconds[s].first.c_str(),
        result.stageSeconds[s].second);
    }
    std::printf("}}\n");
  }
  catch (const std::exception& e)
  {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
