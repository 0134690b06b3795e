// Command-line driver of the aligned projections for BenchmarkAlignedProjection.py:
//   BenchmarkAlignedProjection <out_dir> <step0.npy> <step1.npy> ... [options]
// Each input: N x D_t matrix (float32 '<f4' or uint8 '|u1'), the same N samples.
// Writes <out_dir>/aligned_<t>.npy (N x dims float32) and, with
// --independent 1, <out_dir>/independent_<t>.npy: plain UMAP / PCA of each
// step on its own, same options (the comparison of the benchmark).
// Options: --method umap|pca, --threads T (ATen threads, default 2),
// --epochs E (0 = defaults: aligned 200, plain UMAP 500 / 200),
// --independent-epochs E (default: the aligned run's epochs), --seed S,
// --dims 2|3, --lambda L (alignment_regularisation), --window W,
// --init procrustes|previous, --independent 0|1.
// Prints one JSON line with the times, stages and displacements.
#include "AlignedProjection.h"
#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "NpyReader.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::writeNpy;

namespace
{

double secondsSince(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void printStages(const std::vector<std::pair<std::string, double>>& stages)
{
  std::printf("{");
  for (size_t s = 0; s < stages.size(); ++s)
  {
    std::printf("%s\"%s\": %.3f", s ? ", " : "", stages[s].first.c_str(), stages[s].second);
  }
  std::printf("}");
}

void printList(const std::vector<double>& v)
{
  std::printf("[");
  for (size_t i = 0; i < v.size(); ++i)
  {
    std::printf("%s%.6g", i ? ", " : "", v[i]);
  }
  std::printf("]");
}

} // namespace

int main(int argc, char** argv)
{
  if (argc < 3)
  {
    std::cerr
      << "usage: BenchmarkAlignedProjection <out_dir> <step0.npy> [<step1.npy> ...] [options]\n";
    return 2;
  }
  const std::string outDir = argv[1];
  std::vector<std::string> inputs;
  AlignedProjectionOptions options;
  int threads = 2, independentEpochs = -1;
  bool independent = false;
  for (int a = 2; a < argc; ++a)
  {
    const std::string key = argv[a];
    if (key.rfind("--", 0) != 0)
    {
      inputs.push_back(key);
      continue;
    }
    if (a + 1 >= argc)
    {
      std::cerr << "option " << key << " needs a value\n";
      return 2;
    }
    const std::string value = argv[++a];
    if (key == "--method")
      options.projection.method = value == "pca" ? ProjectionMethod::Pca : ProjectionMethod::Umap;
    else if (key == "--threads")
      threads = std::stoi(value);
    else if (key == "--epochs")
      options.projection.epochs = std::stoi(value);
    else if (key == "--independent-epochs")
      independentEpochs = std::stoi(value);
    else if (key == "--seed")
      options.projection.seed = std::stoull(value);
    else if (key == "--dims")
      options.projection.dimensions = std::stoi(value);
    else if (key == "--lambda")
      options.alignmentRegularisation = std::stod(value);
    else if (key == "--window")
      options.alignmentWindowSize = std::stoi(value);
    else if (key == "--init")
      options.init = value == "previous" ? AlignedInit::Previous : AlignedInit::Procrustes;
    else if (key == "--independent")
      independent = value == "1";
    else
    {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  at::set_num_threads(threads);
  std::vector<std::vector<float>> values;
  std::vector<FeatureMatrix> steps;
  for (const auto& path : inputs)
  {
    const auto array = dualembed::testdata::readNpy(path);
    if (array.shape.size() != 2)
    {
      std::cerr << path << ": input must be a 2-D array\n";
      return 2;
    }
    values.push_back(array.floatValues());
    steps.push_back({ values.back().data(), static_cast<int64_t>(array.shape[0]),
      static_cast<int64_t>(array.shape[1]) });
  }
  try
  {
    auto start = std::chrono::steady_clock::now();
    const AlignedProjectionResult aligned = computeAlignedProjection(steps, options);
    const double alignedSeconds = secondsSince(start);
    for (size_t t = 0; t < aligned.steps.size(); ++t)
    {
      const ProjectionResult& s = aligned.steps[t];
      writeNpy(
        outDir + "/aligned_" + std::to_string(t) + ".npy", s.coordinates, s.rows, s.dimensions);
    }
    std::printf(
      "{\"method\": \"%s\", \"steps\": %zu, \"rows\": %lld, \"threads\": %d, "
      "\"aligned_seconds\": %.3f, \"epochs\": %d, \"init_step1\": \"%s\", \"neighbors\": \"%s\", "
      "\"aligned_stages\": ",
      projectionMethodName(options.projection.method), steps.size(),
      static_cast<long long>(steps[0].rows), threads, alignedSeconds, aligned.steps[0].epochs,
      aligned.steps.size() > 1 ? aligned.steps[1].initUsed.c_str()
                               : aligned.steps[0].initUsed.c_str(),
      aligned.steps[0].neighborsUsed.c_str());
    printStages(aligned.stageSeconds);
    std::printf(", \"relative_displacement\": ");
    printList(aligned.relativeDisplacement);
    std::printf(", \"map_scale\": ");
    printList(aligned.mapScale);
    if (independent)
    {
      ProjectionOptions plain = options.projection;
      plain.epochs = independentEpochs >= 0 ? independentEpochs : aligned.steps[0].epochs;
      std::vector<double> perStep;
      start = std::chrono::steady_clock::now();
      for (size_t t = 0; t < steps.size(); ++t)
      {
        const auto stepStart = std::chrono::steady_clock::now();
        const ProjectionResult r = computeEmbeddingProjection(steps[t], plain);
        perStep.push_back(secondsSince(stepStart));
        writeNpy(outDir + "/independent_" + std::to_string(t) + ".npy", r.coordinates, r.rows,
          r.dimensions);
      }
      std::printf(", \"independent_seconds\": %.3f, \"independent_epochs\": %d, "
                  "\"independent_step_seconds\": ",
        secondsSince(start), plain.epochs);
      printList(perStep);
    }
    std::printf("}\n");
  }
  catch (const std::exception& e)
  {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
