// Neighbours of samples spread over the parts of a distributed run (the MPI
// ranks of pvbatch / pvserver) without gathering them: each part indexes its
// own rows (IVF), the query rows of each part are sent in turn to every part,
// which answers from its own rows (candidates re-ranked with exact
// distances), and the owner of the queries merges the answers. A part holds
// its own rows, their index (one copy of them) and one chunk of queries, so
// memory per part falls with the part count (the gathered search held every
// row on every part). Recall is measured as in the serial search, on a
// random sample of rows whose exact neighbours are searched the same way
// against every part's rows; so is the far tail (the 0.2 % of rows whose
// neighbours lie farthest). See ARCHITECTURE.md, "Neighbours at scale".
//
// Every function here is collective: all parts call it with the same
// options. A failure or an abort on one part (invalid rows, the progress
// callback returning false) makes every part throw at the same point, so
// that no part is left waiting.
#ifndef DualEmbed_Engine_DistributedNeighbors_h
#define DualEmbed_Engine_DistributedNeighbors_h

#include "NearestNeighbors.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace dualembed
{
namespace engine
{

/// What a distributed search needs of the transport between the parts
/// (the filters implement it over ParaView's MPI controller). Every call is
/// collective, in the same order on every part.
class PartExchange
{
public:
  virtual ~PartExchange() = default;
  virtual int parts() const = 0;
  virtual int part() const = 0;
  /// Global index of the first row of part p, and its row count.
  virtual int64_t firstRow(int p) const = 0;
  virtual int64_t rowCount(int p) const = 0;
  /// `values` of part `root` on every part (resized there).
  virtual void broadcast(std::vector<float>& values, int root) const = 0;
  virtual void broadcast(std::vector<int64_t>& values, int root) const = 0;
  virtual void broadcast(std::vector<double>& values, int root) const = 0;
  /// Every part's `values` (the same length on every part), concatenated in
  /// part order, on `root`; empty on the other parts.
  virtual std::vector<float> gather(const std::vector<float>& values, int root) const = 0;
  virtual std::vector<int64_t> gather(const std::vector<int64_t>& values, int root) const = 0;
  virtual std::vector<double> gather(const std::vector<double>& values, int root) const = 0;
  /// The smallest `value` of all parts.
  virtual int minimum(int value) const = 0;
  /// The sum of `value` over all parts, on every part.
  virtual int64_t sum(int64_t value) const = 0;

  int64_t totalRows() const;
};

/// Every part's rows (rowCount(p) x valuesPerRow values each, any count per
/// part), in part order, on part `root`; empty on the others. Collective.
std::vector<float> gatherRows(
  const PartExchange& exchange, const std::vector<float>& local, int valuesPerRow, int root);
std::vector<int64_t> gatherRows(
  const PartExchange& exchange, const std::vector<int64_t>& local, int valuesPerRow, int root);

/// Collective. Runs `step` on this part, then the parts agree: when it threw
/// anywhere (Aborted included), every part throws, its own exception or one
/// saying that another part failed, so that no part is left waiting in the
/// next collective call.
void runAgreed(const PartExchange& exchange, const std::function<void()>& step);

/// The k nearest neighbours among the rows of all parts of every row of
/// `localRows` (this part's rows: global rows firstRow(part()) onwards).
/// The result covers the local rows (firstRow = the global index of the
/// first one) with global neighbour indices, under computeKnn's conventions
/// (NearestNeighbors.h: k = min(k, all rows - 1), self excluded, exact
/// distances ascending, ties by the smaller index). The method is IVF on
/// each part's rows; options.search.method is not read. Throws ModelError on
/// invalid input anywhere (NaN/Inf rows: their count over all parts) and
/// Aborted when the progress callback returns false on any part.
/// `sample` (optional) receives the recall sample's rows of this part (global
/// indices) with their exact neighbours, so that the recall of fewer
/// neighbours can be measured again (a shared graph, NeighborGraphs.h).
KnnResult computeDistributedKnn(const FeatureMatrix& localRows, const PartExchange& exchange,
  const KnnOptions& options, RecallSample* sample = nullptr);

/// recall@k of `result` (this part's rows, k = result.k) over the recall
/// samples of every part, each part passing its own share (global rows):
/// the share of their exact k nearest neighbours found (-1 without samples).
/// Collective.
double recallOverParts(
  const RecallSample& sample, const KnnResult& result, const PartExchange& exchange);

} // namespace engine
} // namespace dualembed

#endif
