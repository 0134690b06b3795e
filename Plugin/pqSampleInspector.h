// The Sample Inspector: a dock panel that shows the selected samples (or,
// with nothing selected, the top outliers) as readable tiles, each beside its
// nearest neighbour, with id, class, prediction and scores — ParaView's answer
// to Spotlight's inspector. Clicking a tile selects that sample in every
// linked view.
#ifndef pqSampleInspector_h
#define pqSampleInspector_h

#include <QDockWidget>
#include <QPointer>

#include "vtkSmartPointer.h"
#include "vtkTable.h"

#include <string>
#include <vector>

class QFrame;
class QGridLayout;
class QLabel;
class QPoint;
class QVBoxLayout;
class QWidget;
class pqOutputPort;
class pqPipelineSource;
class pqScoreHistogram;
class vtkSMSourceProxy;

class pqSampleInspector : public QDockWidget
{
  Q_OBJECT
  using Superclass = QDockWidget;

public:
  pqSampleInspector(QWidget* parent = nullptr);
  ~pqSampleInspector() override;

  /// At most this many tiles are shown (a selection of more shows its first samples).
  static constexpr int MaximumTiles = 60;

private Q_SLOTS:
  /// The selection of `port` changed (null: cleared): show it.
  void onSelectionChanged(pqOutputPort* port);
  /// The active source changed: inspect it when it carries samples.
  void onActivePortChanged(pqOutputPort* port);
  void onSourceRemoved(pqPipelineSource* source);

protected:
  /// A click on a tile selects its sample; a right-click offers to enlarge it
  /// or to select it with its nearest neighbour.
  bool eventFilter(QObject* watched, QEvent* event) override;

private:
  struct TileColumns;

  /// Fetches the rows to show for `port` and rebuilds the tiles.
  void inspect(pqOutputPort* port);
  /// Drops the inspected port, its proxies and the tiles.
  void forgetInspectedSamples();
  /// Makes the gallery of `samples` (the port with the pixels of `port`'s
  /// samples) and its reduction; false, with a message, when that fails.
  bool createGallery(pqOutputPort* port, pqOutputPort* samples);
  /// Points the gallery at `port`'s selection, neighbours and ranking score.
  void configureGallery(
    pqOutputPort* port, const std::string& suffix, const std::string& rankArray);
  /// Brings the gallery's rows to the client (`rows`: null when none came);
  /// false, with a message, when the mover could not be made.
  bool deliverRows(pqOutputPort* port, vtkTable*& rows);
  /// The header: what the tiles show, and how many of the selected samples.
  void describeShownSamples(pqOutputPort* port, vtkTable* rows, const std::string& rankArray);
  void showMessage(const QString& text);
  void log(const QString& line) const;
  void rebuildTiles(vtkTable* rows);
  TileColumns tileColumns(vtkTable* rows) const;
  /// Sorts the value columns of the rows into predictions, scores, trajectories and flags.
  static void listValueColumns(TileColumns& columns);
  /// The tile of row `r`: its thumbnails, its description and its trajectories.
  QFrame* createTile(const TileColumns& columns, vtkIdType r);
  static void addThumbnails(
    QFrame* tile, QVBoxLayout* layout, const TileColumns& columns, vtkIdType r);
  /// The rich-text lines of row `r` (id, label, predictions, scores, issues, neighbour).
  static QString describeSample(const TileColumns& columns, vtkIdType r, bool flagged);
  static void addTrajectories(
    QFrame* tile, QVBoxLayout* layout, const TileColumns& columns, vtkIdType r);
  /// Log lines for the GUI tests: the tiles shown, then (once laid out) where each is.
  void logTiles(const TileColumns& columns);
  /// Selects point `pointId` of the inspected source (and so, through the
  /// selection link, of every map).
  void selectSample(long long pointId, long long globalId);
  /// The same for several samples (globalIds: empty when the samples have none).
  void selectSamples(
    const std::vector<long long>& pointIds, const std::vector<long long>& globalIds);
  void showTileMenu(QWidget* tile, const QPoint& where);
  /// A window with the tile's sample and its nearest neighbour, large, and its description.
  void enlarge(QWidget* tile, long long row);

  QPointer<pqOutputPort> Port;    // the samples shown
  QPointer<pqOutputPort> Pending; // of the ports whose selection changed, the one with most arrays
  bool UpdateScheduled = false;
  QLabel* Header = nullptr;              // what is shown, and why
  pqScoreHistogram* Histogram = nullptr; // where the selection lies in the ranking score
  QWidget* Tiles = nullptr;              // holds the grid of tiles
  QGridLayout* Grid = nullptr;
  // The server-side gallery whose row table feeds the tiles, and the proxies
  // that bring that table to the client; not registered, so the Pipeline
  // Browser does not show them and nothing turns the Apply button green.
  vtkSmartPointer<vtkSMSourceProxy> Gallery;
  vtkSmartPointer<vtkSMSourceProxy> Reduction;
  vtkSmartPointer<vtkSMSourceProxy> Delivery;
  vtkSmartPointer<vtkTable> Rows; // what the tiles show (the enlarged view reads it again)
};

#endif
