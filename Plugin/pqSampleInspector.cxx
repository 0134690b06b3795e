#include "pqSampleInspector.h"

#include "pqActiveObjects.h"
#include "pqApplicationCore.h"
#include "pqOutputPort.h"
#include "pqPipelineFilter.h"
#include "pqPipelineSource.h"
#include "pqSelectionManager.h"
#include "pqServer.h"
#include "pqServerManagerModel.h"

#include "vtkAlgorithm.h"
#include "vtkDataArray.h"
#include "vtkDataSetAttributes.h"
#include "vtkFieldData.h"
#include "vtkIntArray.h"
#include "vtkPVArrayInformation.h"
#include "vtkPVDataInformation.h"
#include "vtkPVDataSetAttributesInformation.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMSelectionHelper.h"
#include "vtkSMSessionProxyManager.h"
#include "vtkSMSourceProxy.h"
#include "vtkStringArray.h"
#include "vtkTable.h"
#include "vtkUnsignedCharArray.h"

#include <QContextMenuEvent>
#include <QDateTime>
#include <QDialog>
#include <QEvent>
#include <QFile>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QRegExp>
#include <QScrollArea>
#include <QTextStream>
#include <QTimer>
#include <QVBoxLayout>
#include <QVariant>

#include <algorithm>
#include <string>
#include <vector>

namespace
{
constexpr int ThumbnailSide = 96; // the smallest side a tile's image is shown at
constexpr int Columns = 2;        // tiles per row of the grid

/// What the client knows of `port`'s point data (null when nothing).
vtkPVDataSetAttributesInformation* pointDataOf(pqOutputPort* port)
{
  vtkPVDataInformation* info = port ? port->getDataInformation() : nullptr;
  return info ? info->GetPointDataInformation() : nullptr;
}

/// Names of the point-data arrays of `port` that start with `prefix`, in order.
std::vector<std::string> arraysWithPrefix(pqOutputPort* port, const std::string& prefix)
{
  std::vector<std::string> names;
  vtkPVDataSetAttributesInformation* pd = pointDataOf(port);
  for (int i = 0; pd && i < pd->GetNumberOfArrays(); ++i)
  {
    const char* name = pd->GetArrayInformation(i)->GetName();
    if (name && std::string(name).rfind(prefix, 0) == 0)
    {
      names.emplace_back(name);
    }
  }
  return names;
}

/// The number of point-data arrays of `port`'s samples.
int arrayCount(pqOutputPort* port)
{
  vtkPVDataSetAttributesInformation* pd = pointDataOf(port);
  return pd ? pd->GetNumberOfArrays() : 0;
}

/// The name of the global-ids array of `port`'s samples ("" when none).
std::string globalIdsOf(pqOutputPort* port)
{
  vtkPVDataSetAttributesInformation* pd = pointDataOf(port);
  vtkPVArrayInformation* ids =
    pd ? pd->GetAttributeInformation(vtkDataSetAttributes::GLOBALIDS) : nullptr;
  return ids && ids->GetName() ? ids->GetName() : "";
}

/// The nearest source at or upstream of `port` whose samples carry their
/// pixels: the comparison layout's maps show the samples without them
/// (dualembed.layout.per_sample_arrays), with the same point ids.
pqOutputPort* withImages(pqOutputPort* port)
{
  for (int depth = 0; port && depth < 32; ++depth)
  {
    if (!arraysWithPrefix(port, "image").empty())
    {
      return port;
    }
    auto* filter = qobject_cast<pqPipelineFilter*>(port->getSource());
    port = filter && !filter->getInputs().empty() ? filter->getInputs().front() : nullptr;
  }
  return nullptr;
}

/// The X of the nn_id_X to show beside each sample (the foundation's first).
std::string neighborSuffix(pqOutputPort* port)
{
  std::vector<std::string> ids = arraysWithPrefix(port, "nn_id_");
  if (ids.empty())
  {
    return {};
  }
  auto foundation = std::find(ids.begin(), ids.end(), "nn_id_foundation");
  return (foundation != ids.end() ? *foundation : ids.front()).substr(6);
}

/// The score the tiles are ranked by: the outlier score of the neighbours'
/// embedding X, else the first outlier score ("" when none).
std::string rankArrayOf(pqOutputPort* port, const std::string& suffix)
{
  std::vector<std::string> scores = arraysWithPrefix(port, "outlier_score_");
  auto preferred = std::find(scores.begin(), scores.end(), "outlier_score_" + suffix);
  return preferred != scores.end() ? *preferred : (scores.empty() ? "" : scores[0]);
}

/// Row `row` of a uint8 H·W·C image column as a QPixmap at least
/// ThumbnailSide pixels high; small images are enlarged by whole factors with
/// nearest-neighbour scaling, so that 28-pixel digits stay sharp.
/// A sample's trajectory over the checkpoints (label_probability_X: p of the
/// given label at each), as a small line chart on [0, 1] with the 0.5 line.
QPixmap trajectory(vtkDataArray* values, vtkIdType row)
{
  const int steps = values->GetNumberOfComponents();
  QPixmap pixmap(std::max(60, 14 * steps), 34);
  pixmap.fill(Qt::white);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  const auto at = [&](int t) {
    const double p = std::min(1.0, std::max(0.0, values->GetComponent(row, t)));
    return QPointF(3 + (pixmap.width() - 6) * (steps > 1 ? double(t) / (steps - 1) : 0.5),
      3 + (pixmap.height() - 6) * (1.0 - p));
  };
  painter.setPen(QPen(QColor(200, 200, 200), 1, Qt::DashLine));
  painter.drawLine(
    QPointF(0, pixmap.height() / 2.0), QPointF(pixmap.width(), pixmap.height() / 2.0));
  painter.setPen(QPen(QColor(31, 119, 180), 1.5));
  for (int t = 1; t < steps; ++t)
  {
    painter.drawLine(at(t - 1), at(t));
  }
  painter.setBrush(QColor(31, 119, 180));
  for (int t = 0; t < steps; ++t)
  {
    painter.drawEllipse(at(t), 1.8, 1.8);
  }
  return pixmap;
}

QPixmap thumbnail(vtkUnsignedCharArray* images, vtkIdType row, int h, int w, int c,
  int thumbnailSide = ThumbnailSide)
{
  if (!images || h <= 0 || w <= 0 || (c != 1 && c != 3 && c != 4) ||
    images->GetNumberOfComponents() != h * w * c || row < 0 || row >= images->GetNumberOfTuples())
  {
    return {};
  }
  const QImage::Format format =
    c == 1 ? QImage::Format_Grayscale8 : (c == 3 ? QImage::Format_RGB888 : QImage::Format_RGBA8888);
  const QImage image(
    images->GetPointer(row * images->GetNumberOfComponents()), w, h, w * c, format);
  const int side = std::max(h, w);
  if (side < thumbnailSide)
  {
    const int factor = (thumbnailSide + side - 1) / side;
    return QPixmap::fromImage(
      image.scaled(w * factor, h * factor, Qt::KeepAspectRatio, Qt::FastTransformation));
  }
  return QPixmap::fromImage(image.scaled(thumbnailSide * w / side, thumbnailSide * h / side,
    Qt::KeepAspectRatio, Qt::SmoothTransformation));
}

QString stringValue(vtkTable* table, const std::string& column, vtkIdType row)
{
  vtkAbstractArray* array = table->GetColumnByName(column.c_str());
  if (auto strings = vtkStringArray::SafeDownCast(array))
  {
    return QString::fromStdString(strings->GetValue(row));
  }
  if (auto numbers = vtkDataArray::SafeDownCast(array))
  {
    return QString::number(numbers->GetComponent(row, 0), 'g', 4);
  }
  return {};
}
}

/// Where the shown samples lie in the score the tiles are ranked by: the distribution of every
/// sample (grey) and of the selected ones (black, on their own scale so a few stand out).
class pqScoreHistogram : public QWidget
{
public:
  explicit pqScoreHistogram(QWidget* parent)
    : QWidget(parent)
  {
    this->setMinimumHeight(70);
    this->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  }

  void setData(vtkTable* rows, const QString& name)
  {
    this->All.clear();
    this->Selected.clear();
    this->Name = name;
    auto* histogram = rows
      ? vtkDataArray::SafeDownCast(rows->GetFieldData()->GetAbstractArray("rank_histogram"))
      : nullptr;
    auto* range = rows
      ? vtkDataArray::SafeDownCast(rows->GetFieldData()->GetAbstractArray("rank_range"))
      : nullptr;
    if (histogram && range && histogram->GetNumberOfComponents() == 2 &&
      range->GetNumberOfTuples() == 2)
    {
      for (vtkIdType b = 0; b < histogram->GetNumberOfTuples(); ++b)
      {
        this->All.push_back(histogram->GetComponent(b, 0));
        this->Selected.push_back(histogram->GetComponent(b, 1));
      }
      this->Low = range->GetComponent(0, 0);
      this->High = range->GetComponent(1, 0);
    }
    this->setVisible(!this->All.empty());
    this->update();
  }

protected:
  void paintEvent(QPaintEvent*) override
  {
    QPainter painter(this);
    painter.fillRect(this->rect(), Qt::white);
    const int bins = static_cast<int>(this->All.size());
    if (bins == 0)
    {
      return;
    }
    const QRect plot = this->rect().adjusted(4, 16, -4, -14);
    const double allMax = std::max(1.0, *std::max_element(this->All.begin(), this->All.end()));
    const double selectedMax =
      std::max(1.0, *std::max_element(this->Selected.begin(), this->Selected.end()));
    const double width = static_cast<double>(plot.width()) / bins;
    for (int b = 0; b < bins; ++b)
    {
      const int x = plot.left() + static_cast<int>(b * width);
      const int w =
        std::max(1, static_cast<int>((b + 1) * width) - static_cast<int>(b * width) - 1);
      const int allHeight = static_cast<int>(plot.height() * this->All[b] / allMax);
      painter.fillRect(x, plot.bottom() - allHeight, w, allHeight, QColor(190, 190, 190));
      const int selectedHeight = static_cast<int>(plot.height() * this->Selected[b] / selectedMax);
      painter.fillRect(
        x + w / 4, plot.bottom() - selectedHeight, std::max(1, w / 2), selectedHeight, Qt::black);
    }
    painter.setPen(Qt::black);
    painter.drawText(this->rect().adjusted(4, 0, -4, 0), Qt::AlignTop | Qt::AlignLeft,
      tr("%1: all samples (grey), selected (black)").arg(this->Name));
    painter.drawText(this->rect().adjusted(4, 0, -4, 0), Qt::AlignBottom | Qt::AlignLeft,
      QString::number(this->Low, 'g', 3));
    painter.drawText(this->rect().adjusted(4, 0, -4, 0), Qt::AlignBottom | Qt::AlignRight,
      QString::number(this->High, 'g', 3));
  }

private:
  std::vector<double> All, Selected;
  double Low = 0.0, High = 0.0;
  QString Name;
};

pqSampleInspector::pqSampleInspector(QWidget* parent)
  : Superclass(parent)
{
  this->setWindowTitle(tr("Sample Inspector"));
  this->setObjectName("DualEmbedSampleInspector");
  auto* body = new QWidget(this);
  auto* layout = new QVBoxLayout(body);
  layout->setContentsMargins(4, 4, 4, 4);
  this->Header = new QLabel(body);
  this->Header->setObjectName("Header");
  this->Header->setWordWrap(true);
  layout->addWidget(this->Header);
  this->Histogram = new pqScoreHistogram(body);
  this->Histogram->setVisible(false);
  layout->addWidget(this->Histogram);
  auto* scroll = new QScrollArea(body);
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(
    Columns * (2 * ThumbnailSide + 40) + 30); // two tiles of two thumbnails side by side
  this->Tiles = new QWidget(scroll);
  this->Grid = new QGridLayout(this->Tiles);
  this->Grid->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  scroll->setWidget(this->Tiles);
  layout->addWidget(scroll, 1);
  this->setWidget(body);
  this->showMessage(tr("Select samples in a map or the spreadsheet (or run Compare Embeddings) to "
                       "see them here beside their nearest neighbours."));

  // The selection manager belongs to the main window, which may still be
  // under construction when the plugin loads: connect once the event loop runs.
  QTimer::singleShot(0, this, [this]() {
    if (auto* selection = qobject_cast<pqSelectionManager*>(
          pqApplicationCore::instance()->manager("SELECTION_MANAGER")))
    {
      this->connect(selection, &pqSelectionManager::selectionChanged, this,
        &pqSampleInspector::onSelectionChanged);
    }
  });
  this->connect(&pqActiveObjects::instance(), &pqActiveObjects::portChanged, this,
    &pqSampleInspector::onActivePortChanged);
  this->connect(pqApplicationCore::instance()->getServerManagerModel(),
    &pqServerManagerModel::sourceRemoved, this, &pqSampleInspector::onSourceRemoved);
}

pqSampleInspector::~pqSampleInspector() = default;

void pqSampleInspector::onSelectionChanged(pqOutputPort* port)
{
  // A cleared selection (null) shows the top outliers of what was shown.
  // A linked selection changes several ports at once: one update for all,
  // of the port that describes the samples best (the most arrays: e.g. a
  // fine-tuning run's map, with its dynamics, rather than the foundation's).
  port = port ? port : this->Port.data();
  if (!this->UpdateScheduled || !this->Pending || arrayCount(port) > arrayCount(this->Pending))
  {
    this->Pending = port;
  }
  if (!this->UpdateScheduled)
  {
    this->UpdateScheduled = true;
    QTimer::singleShot(0, this, [this]() {
      this->UpdateScheduled = false;
      this->inspect(this->Pending);
    });
  }
}

void pqSampleInspector::onActivePortChanged(pqOutputPort* port)
{
  if (port && port != this->Port && !arraysWithPrefix(port, "nn_id_").empty())
  {
    this->inspect(port);
  }
}

void pqSampleInspector::onSourceRemoved(pqPipelineSource* source)
{
  if (this->Port && this->Port->getSource() == source)
  {
    this->forgetInspectedSamples();
    this->showMessage(tr("The inspected samples were deleted."));
  }
}

void pqSampleInspector::showMessage(const QString& text)
{
  this->Header->setText(text);
  this->log("header " + QString(text).remove(QRegExp("<[^>]*>")));
}

void pqSampleInspector::log(const QString& line) const
{
  // For GUI tests that drive paraview from outside: DUALEMBED_INSPECTOR_LOG
  // names a file that receives one line per change of the panel.
  static const QByteArray path = qgetenv("DUALEMBED_INSPECTOR_LOG");
  if (path.isEmpty())
  {
    return;
  }
  QFile file(QString::fromLocal8Bit(path));
  if (file.open(QIODevice::Append | QIODevice::Text))
  {
    QTextStream(&file) << QDateTime::currentMSecsSinceEpoch() << " " << line << "\n";
  }
}

void pqSampleInspector::forgetInspectedSamples()
{
  this->Port = nullptr;
  this->Gallery = nullptr;
  this->Reduction = nullptr;
  this->Delivery = nullptr;
  this->rebuildTiles(nullptr);
}

void pqSampleInspector::inspect(pqOutputPort* port)
{
  const std::string suffix = neighborSuffix(port);
  pqOutputPort* samples = withImages(port);
  if (port && !suffix.empty() && !samples)
  {
    // Samples without pixels (a table of embeddings computed elsewhere): say so
    // instead of inviting a selection that would show nothing.
    this->forgetInspectedSamples();
    this->showMessage(tr("These samples have no images (e.g. a table of embeddings computed "
                         "elsewhere): the maps, the spreadsheet and the histogram show them."));
    return;
  }
  if (!port || suffix.empty() || !samples)
  {
    return; // not samples with neighbours (e.g. a selection in another pipeline): keep what is
            // shown
  }
  const std::string rankArray = rankArrayOf(port, suffix);
  if ((port != this->Port || !this->Gallery) && !this->createGallery(port, samples))
  {
    return;
  }
  this->configureGallery(port, suffix, rankArray);
  vtkTable* rows = nullptr;
  if (!this->deliverRows(port, rows))
  {
    return;
  }
  this->rebuildTiles(rows);
  this->Histogram->setData(rows, QString::fromStdString(rankArray));
  this->describeShownSamples(port, rows, rankArray);
}

bool pqSampleInspector::createGallery(pqOutputPort* port, pqOutputPort* samples)
{
  vtkSMSessionProxyManager* pxm = port->getServer()->proxyManager();
  this->Port = port;
  this->Gallery.TakeReference(
    vtkSMSourceProxy::SafeDownCast(pxm->NewProxy("filters", "SampleGallery")));
  this->Reduction.TakeReference(
    vtkSMSourceProxy::SafeDownCast(pxm->NewProxy("filters", "ReductionFilter")));
  if (!this->Gallery || !this->Reduction)
  {
    this->showMessage(tr("The Sample Inspector could not create its proxies."));
    return false;
  }
  vtkSMPropertyHelper(this->Gallery, "Input")
    .Set(samples->getSource()->getProxy(), samples->getPortNumber());
  vtkSMPropertyHelper(this->Gallery, "Count").Set(MaximumTiles);
  vtkSMPropertyHelper(this->Gallery, "TileSize")
    .Set(8); // the tiles come from the table, not the picture
  vtkSMPropertyHelper(this->Reduction, "Input").Set(this->Gallery, 1);
  vtkSMPropertyHelper(this->Reduction, "PassThrough").Set(0); // the root holds the rows
  this->Reduction->UpdateVTKObjects();
  return true;
}

void pqSampleInspector::configureGallery(
  pqOutputPort* port, const std::string& suffix, const std::string& rankArray)
{
  vtkSMPropertyHelper(this->Gallery, "NeighborSuffix").Set(suffix.c_str());
  vtkSMPropertyHelper(this->Gallery, "RankArray").Set(rankArray.c_str());
  vtkSMSourceProxy* selection = port->getSelectionInput();
  vtkSMPropertyHelper selectionInput(this->Gallery, "Selection");
  if (selection)
  {
    selectionInput.Set(selection, port->getSelectionInputPort());
  }
  else
  {
    selectionInput.RemoveAllValues();
  }
  this->Gallery->UpdateVTKObjects();
}

bool pqSampleInspector::deliverRows(pqOutputPort* port, vtkTable*& rows)
{
  // A new mover at every update, as servermanager.Fetch does. On a pvserver
  // the server's mover sends whenever the gallery changed, but the client's
  // (which has no input there) receives only when it is itself modified; one
  // kept across updates left a message unread, and the next receive aborted
  // the client ("Wrong tag ... 23483", ParaView 5.11).
  vtkSMSessionProxyManager* pxm = port->getServer()->proxyManager();
  this->Delivery.TakeReference(
    vtkSMSourceProxy::SafeDownCast(pxm->NewProxy("filters", "ClientServerMoveData")));
  if (!this->Delivery)
  {
    this->showMessage(tr("The Sample Inspector could not create its proxies."));
    return false;
  }
  vtkSMPropertyHelper(this->Delivery, "Input").Set(this->Reduction);
  vtkSMPropertyHelper(this->Delivery, "OutputDataType").Set(VTK_TABLE);
  this->Delivery->UpdateVTKObjects();
  this->Delivery->UpdatePipeline();

  auto* delivered = vtkAlgorithm::SafeDownCast(this->Delivery->GetClientSideObject());
  rows = delivered ? vtkTable::SafeDownCast(delivered->GetOutputDataObject(0)) : nullptr;
  return true;
}

void pqSampleInspector::describeShownSamples(
  pqOutputPort* port, vtkTable* rows, const std::string& rankArray)
{
  const QString name = port->getSource()->getSMName();
  vtkDataArray* total = rows
    ? vtkDataArray::SafeDownCast(rows->GetFieldData()->GetAbstractArray("selected_count"))
    : nullptr;
  const vtkIdType shown = rows ? rows->GetNumberOfRows() : 0;
  if (!rows || !total)
  {
    this->showMessage(
      tr("%1: the samples could not be shown (see the Output Messages).").arg(name));
  }
  else if (total->GetComponent(0, 0) < 0)
  {
    this->showMessage(tr("<b>%1</b>: nothing selected, the %2 strongest outliers (lowest %3). "
                         "Click a tile to select that sample.")
                        .arg(name)
                        .arg(shown)
                        .arg(QString::fromStdString(rankArray)));
  }
  else
  {
    const auto count = static_cast<long long>(total->GetComponent(0, 0));
    this->showMessage(count > shown
        ? tr("<b>%1</b>: %2 selected samples, the first %3 shown.").arg(name).arg(count).arg(shown)
        : tr("<b>%1</b>: %2 selected sample(s).").arg(name).arg(count));
  }
}

/// The columns of the delivered rows that a tile reads.
struct pqSampleInspector::TileColumns
{
  vtkTable* Rows = nullptr;
  int Height = 0, Width = 0, Channels = 0; // of each image
  vtkUnsignedCharArray* Images = nullptr;
  vtkUnsignedCharArray* NeighborImages = nullptr;
  vtkDataArray* PointIds = nullptr;
  vtkDataArray* GlobalIds = nullptr; // null when the samples have none
  std::string Suffix;                // the X of the nn_*_X columns ("" when none)
  // Per-sample values worth reading: predictions and scores of every embedding.
  // With Training Dynamics upstream: its per-sample figures and the trajectory
  // of the label's probability over the checkpoints. Data Issues' flags
  // (is_label_issue_ft, is_near_duplicate_foundation, ...): listed when set.
  std::vector<std::string> Predictions, Scores, Trajectories, Flags;

  long long pointId(vtkIdType row) const
  {
    return this->PointIds ? static_cast<long long>(this->PointIds->GetComponent(row, 0)) : -1;
  }
  long long globalId(vtkIdType row) const
  {
    return this->GlobalIds ? static_cast<long long>(this->GlobalIds->GetComponent(row, 0)) : -1;
  }
};

void pqSampleInspector::rebuildTiles(vtkTable* rows)
{
  while (QLayoutItem* item = this->Grid->takeAt(0))
  {
    delete item->widget();
    delete item;
  }
  this->Rows = rows;
  if (!rows || rows->GetNumberOfRows() == 0)
  {
    return;
  }
  const TileColumns columns = this->tileColumns(rows);
  for (vtkIdType r = 0; r < rows->GetNumberOfRows(); ++r)
  {
    this->Grid->addWidget(
      this->createTile(columns, r), static_cast<int>(r / Columns), static_cast<int>(r % Columns));
  }
  this->Tiles->adjustSize();
  this->logTiles(columns);
}

pqSampleInspector::TileColumns pqSampleInspector::tileColumns(vtkTable* rows) const
{
  TileColumns columns;
  columns.Rows = rows;
  auto* shape = vtkIntArray::SafeDownCast(rows->GetFieldData()->GetAbstractArray("image_shape"));
  columns.Height = shape && shape->GetNumberOfValues() == 3 ? shape->GetValue(0) : 0;
  columns.Width = shape && shape->GetNumberOfValues() == 3 ? shape->GetValue(1) : 0;
  columns.Channels = shape && shape->GetNumberOfValues() == 3 ? shape->GetValue(2) : 0;
  columns.Images = vtkUnsignedCharArray::SafeDownCast(rows->GetColumnByName("image"));
  columns.NeighborImages =
    vtkUnsignedCharArray::SafeDownCast(rows->GetColumnByName("neighbor_image"));
  columns.PointIds = vtkDataArray::SafeDownCast(rows->GetColumnByName("point_id"));
  // Samples with global ids (the readers' sample_id) are selected by them: a
  // point id is local to its rank on a pvserver of several ranks.
  const std::string globalIdName = globalIdsOf(this->Port);
  columns.GlobalIds = vtkDataArray::SafeDownCast(rows->GetColumnByName(globalIdName.c_str()));
  columns.Suffix = this->Port ? neighborSuffix(this->Port) : std::string();
  listValueColumns(columns);
  return columns;
}

void pqSampleInspector::listValueColumns(TileColumns& columns)
{
  static const char* const scorePrefixes[] = { "outlier_score_", "label_quality_", "confidence_",
    "variability_", "correctness_", "forgetting_events_", "aum_", "mean_embedding_drift_",
    "embedding_drift_" };
  for (vtkIdType i = 0; i < columns.Rows->GetNumberOfColumns(); ++i)
  {
    const std::string name = columns.Rows->GetColumnName(i);
    if (name.rfind("pred_label_str_", 0) == 0)
    {
      columns.Predictions.push_back(name);
    }
    else if (name.rfind("label_probability_", 0) == 0)
    {
      columns.Trajectories.push_back(name);
    }
    else if (name.rfind("is_", 0) == 0)
    {
      columns.Flags.push_back(name);
    }
    else if (name == "embedding_change" ||
      std::any_of(std::begin(scorePrefixes), std::end(scorePrefixes),
        [&name](const char* prefix) { return name.rfind(prefix, 0) == 0; }))
    {
      columns.Scores.push_back(name);
    }
  }
}

QFrame* pqSampleInspector::createTile(const TileColumns& columns, vtkIdType r)
{
  vtkTable* rows = columns.Rows;
  const bool flagged =
    !columns.Suffix.empty() && stringValue(rows, "nn_flag_" + columns.Suffix, r) == "1";
  auto* tile = new QFrame(this->Tiles);
  tile->setObjectName(QString("Tile%1").arg(r));
  tile->setFrameShape(QFrame::Box);
  tile->setLineWidth(2);
  tile->setStyleSheet(flagged ? "QFrame#" + tile->objectName() + " { border: 2px solid #e62828; }"
                              : "QFrame#" + tile->objectName() + " { border: 2px solid #6e6e6e; }");
  tile->setCursor(Qt::PointingHandCursor);
  tile->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed); // all its lines, scroll for more
  tile->setProperty("pointId", QVariant::fromValue<qlonglong>(columns.pointId(r)));
  tile->setProperty("row", QVariant::fromValue<qlonglong>(r));
  tile->setToolTip(tr("Click: select this sample. Right-click: enlarge it, or select it with its "
                      "nearest neighbour."));
  tile->setProperty("globalId", QVariant::fromValue<qlonglong>(columns.globalId(r)));
  tile->installEventFilter(this);

  auto* layout = new QVBoxLayout(tile);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->setSpacing(2);
  addThumbnails(tile, layout, columns, r);
  auto* text = new QLabel(describeSample(columns, r, flagged), tile);
  text->setObjectName("Description");
  text->setTextFormat(Qt::RichText);
  text->setWordWrap(false); // a wrapped QLabel under-reports its height in a grid: lines were cut
  layout->addWidget(text);
  addTrajectories(tile, layout, columns, r);
  return tile;
}

void pqSampleInspector::addThumbnails(
  QFrame* tile, QVBoxLayout* layout, const TileColumns& columns, vtkIdType r)
{
  auto* pictures = new QHBoxLayout();
  for (vtkUnsignedCharArray* column : { columns.Images, columns.NeighborImages })
  {
    auto* picture = new QLabel(tile);
    picture->setPixmap(thumbnail(column, r, columns.Height, columns.Width, columns.Channels));
    picture->setToolTip(column == columns.Images ? tr("the sample") : tr("its nearest neighbour"));
    pictures->addWidget(picture);
  }
  pictures->addStretch(1);
  layout->addLayout(pictures);
}

QString pqSampleInspector::describeSample(const TileColumns& columns, vtkIdType r, bool flagged)
{
  vtkTable* rows = columns.Rows;
  QStringList lines;
  lines << QString("<b>#%1</b> %2")
             .arg(stringValue(rows, "sample_id", r),
               stringValue(rows, "label_str", r).toHtmlEscaped());
  for (const std::string& name : columns.Predictions)
  {
    const QString predicted = stringValue(rows, name, r);
    const bool wrong = predicted != stringValue(rows, "label_str", r);
    lines << QString("predicted (%1): %2%3%4")
               .arg(QString::fromStdString(name.substr(15)),
                 wrong ? "<span style='color:#c00000'>" : "", predicted.toHtmlEscaped(),
                 wrong ? "</span>" : "");
  }
  for (const std::string& name : columns.Scores)
  {
    lines << QString("%1: %2").arg(QString::fromStdString(name), stringValue(rows, name, r));
  }
  QStringList issues;
  for (const std::string& name : columns.Flags)
  {
    if (stringValue(rows, name, r) == "1")
    {
      issues << QString::fromStdString(name.substr(3));
    }
  }
  if (!issues.isEmpty())
  {
    lines << "<span style='color:#c00000'>" + issues.join(", ").toHtmlEscaped() + "</span>";
  }
  if (!columns.Suffix.empty())
  {
    const QString neighbor = stringValue(rows, "nn_id_" + columns.Suffix, r);
    lines << QString("nn (%1): point %2, d %3")
               .arg(QString::fromStdString(columns.Suffix), neighbor,
                 stringValue(rows, "nn_distance_" + columns.Suffix, r));
    if (flagged)
    {
      lines << "<span style='color:#e62828'><b>near-duplicate</b></span>";
    }
  }
  return lines.join("<br>");
}

void pqSampleInspector::addTrajectories(
  QFrame* tile, QVBoxLayout* layout, const TileColumns& columns, vtkIdType r)
{
  for (const std::string& name : columns.Trajectories)
  {
    if (auto* values = vtkDataArray::SafeDownCast(columns.Rows->GetColumnByName(name.c_str())))
    {
      auto* chart = new QLabel(tile);
      chart->setObjectName(QString("Trajectory%1").arg(r));
      chart->setPixmap(trajectory(values, r));
      chart->setToolTip(tr("%1: the probability of the given label at each of the %2 checkpoints")
                          .arg(QString::fromStdString(name))
                          .arg(values->GetNumberOfComponents()));
      layout->addWidget(
        new QLabel(tr("p(label) over %1 checkpoints:").arg(values->GetNumberOfComponents()), tile));
      layout->addWidget(chart);
    }
  }
}

void pqSampleInspector::logTiles(const TileColumns& columns)
{
  QStringList shown;
  for (vtkIdType r = 0; r < columns.Rows->GetNumberOfRows(); ++r)
  {
    shown << QString::number(columns.pointId(r));
  }
  // Before "tiles": the GUI tests read "tiles" then "header" as one update.
  if (!columns.Trajectories.empty())
  {
    this->log(QString("trajectories %1 of %2")
                .arg(QString::fromStdString(columns.Trajectories[0]))
                .arg(columns.Rows->GetNumberOfRows()));
  }
  this->log("tiles " + shown.join(" "));
  QTimer::singleShot(100, this, [this]() { // laid out by then: where each tile is on screen
    for (vtkIdType r = 0; auto* tile = this->Tiles->findChild<QFrame*>(QString("Tile%1").arg(r));
         ++r)
    {
      const QPoint centre = tile->mapToGlobal(tile->rect().center());
      this->log(QString("tilepos %1 %2 %3 %4")
                  .arg(r)
                  .arg(tile->property("pointId").toLongLong())
                  .arg(centre.x())
                  .arg(centre.y()));
    }
  });
}

bool pqSampleInspector::eventFilter(QObject* watched, QEvent* event)
{
  if (event->type() == QEvent::ContextMenu && watched->property("pointId").isValid())
  {
    this->showTileMenu(
      qobject_cast<QWidget*>(watched), static_cast<QContextMenuEvent*>(event)->globalPos());
    return true;
  }
  if (event->type() == QEvent::MouseButtonRelease && watched->property("pointId").isValid() &&
    static_cast<QMouseEvent*>(event)->button() == Qt::LeftButton)
  {
    // After the event: selecting rebuilds the tiles, the one clicked included.
    const long long pointId = watched->property("pointId").toLongLong();
    const long long globalId = watched->property("globalId").toLongLong();
    QTimer::singleShot(
      0, this, [this, pointId, globalId]() { this->selectSample(pointId, globalId); });
    return true;
  }
  return this->Superclass::eventFilter(watched, event);
}

void pqSampleInspector::showTileMenu(QWidget* tile, const QPoint& where)
{
  const long long pointId = tile->property("pointId").toLongLong();
  const long long globalId = tile->property("globalId").toLongLong();
  const vtkIdType row = tile->property("row").toLongLong();
  const std::string suffix = this->Port ? neighborSuffix(this->Port) : std::string();
  auto* neighbors = this->Rows
    ? vtkDataArray::SafeDownCast(this->Rows->GetColumnByName(("nn_id_" + suffix).c_str()))
    : nullptr;
  QMenu menu(this);
  QAction* enlarge = menu.addAction(tr("Enlarge"));
  enlarge->setObjectName("actionEnlargeSample");
  QAction* pair = menu.addAction(
    tr("Select with its nearest neighbour (%1)").arg(QString::fromStdString(suffix)));
  pair->setObjectName("actionSelectWithNeighbor");
  pair->setEnabled(neighbors && row < neighbors->GetNumberOfTuples());
  this->log(QString("menu %1").arg(pointId));
  QPointer<QWidget> alive(tile); // the menu's event loop may rebuild the tiles (a new selection)
  vtkSmartPointer<vtkTable> rows = this->Rows;
  QAction* chosen = menu.exec(where);
  if (!alive || rows != this->Rows)
  {
    return;
  }
  if (chosen == enlarge)
  {
    this->enlarge(tile, row);
  }
  else if (chosen == pair && pair->isEnabled())
  {
    // nn_id_X is the neighbour's row among all samples: its point id when
    // serial, its global id (the readers' sample_id, the row) when distributed.
    const long long neighbor = static_cast<long long>(neighbors->GetComponent(row, 0));
    QTimer::singleShot(0, this, [this, pointId, globalId, neighbor]() {
      this->selectSamples({ pointId, neighbor },
        globalId >= 0 ? std::vector<long long>{ globalId, neighbor } : std::vector<long long>{});
    });
  }
}

void pqSampleInspector::enlarge(QWidget* tile, vtkIdType row)
{
  auto* shape = this->Rows
    ? vtkIntArray::SafeDownCast(this->Rows->GetFieldData()->GetAbstractArray("image_shape"))
    : nullptr;
  if (!shape || shape->GetNumberOfValues() != 3)
  {
    return;
  }
  // Large enough to see what a thumbnail hides; the window is the user's to
  // keep open beside the maps, or to close.
  auto* dialog = new QDialog(this);
  dialog->setObjectName("EnlargedSample");
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  auto* layout = new QVBoxLayout(dialog);
  auto* pictures = new QHBoxLayout();
  int width = 0;
  for (const char* column : { "image", "neighbor_image" })
  {
    auto* picture = new QLabel(dialog);
    const QPixmap pixmap =
      thumbnail(vtkUnsignedCharArray::SafeDownCast(this->Rows->GetColumnByName(column)), row,
        shape->GetValue(0), shape->GetValue(1), shape->GetValue(2), 5 * ThumbnailSide);
    picture->setPixmap(pixmap);
    picture->setToolTip(
      std::string(column) == "image" ? tr("the sample") : tr("its nearest neighbour"));
    width += pixmap.width(); // what the label shows (its pixmap() accessor is deprecated)
    pictures->addWidget(picture);
  }
  layout->addLayout(pictures);
  if (auto* description = tile->findChild<QLabel*>("Description"))
  {
    auto* text = new QLabel(description->text(), dialog);
    text->setTextFormat(Qt::RichText);
    layout->addWidget(text);
  }
  dialog->setWindowTitle(
    tr("Sample #%1 and its nearest neighbour").arg(stringValue(this->Rows, "sample_id", row)));
  dialog->show();
  this->log(QString("enlarged %1 %2").arg(tile->property("pointId").toLongLong()).arg(width));
}

void pqSampleInspector::selectSample(long long pointId, long long globalId)
{
  this->selectSamples(
    { pointId }, globalId >= 0 ? std::vector<long long>{ globalId } : std::vector<long long>{});
}

void pqSampleInspector::selectSamples(
  const std::vector<long long>& pointIds, const std::vector<long long>& globalIds)
{
  if (!this->Port || pointIds.empty() || *std::min_element(pointIds.begin(), pointIds.end()) < 0)
  {
    return;
  }
  // A selection of that sample; the selection link of the comparison layout
  // passes it on to the other map (same samples everywhere). By global id
  // when the samples have them: (process, point id) addresses a rank's own
  // points, and the gallery's point_id is a global row.
  for (size_t i = 0; i < pointIds.size(); ++i)
  {
    this->log(
      QString("select %1 %2").arg(pointIds[i]).arg(i < globalIds.size() ? globalIds[i] : -1));
  }
  vtkSMSessionProxyManager* pxm = this->Port->getServer()->proxyManager();
  vtkSmartPointer<vtkSMSourceProxy> selection;
  const bool global = !globalIds.empty();
  selection.TakeReference(vtkSMSourceProxy::SafeDownCast(
    pxm->NewProxy("sources", global ? "GlobalIDSelectionSource" : "IDSelectionSource")));
  vtkSMPropertyHelper(selection, "FieldType").Set(1); // points (vtkSelectionNode::POINT)
  std::vector<vtkIdType> ids;
  for (size_t i = 0; i < pointIds.size(); ++i)
  {
    if (!global)
    {
      ids.push_back(0); // (process, point id): serial data
    }
    ids.push_back(static_cast<vtkIdType>(global ? globalIds[i] : pointIds[i]));
  }
  vtkSMPropertyHelper(selection, "IDs").Set(ids.data(), static_cast<unsigned int>(ids.size()));
  selection->UpdateVTKObjects();
  // ParaView 5.11's selections are AppendSelections proxies (boolean combinations of sources).
  vtkSmartPointer<vtkSMSourceProxy> combined;
  combined.TakeReference(vtkSMSourceProxy::SafeDownCast(
    vtkSMSelectionHelper::NewAppendSelectionsFromSelectionSource(selection)));
  if (!combined)
  {
    return;
  }
  this->Port->setSelectionInput(combined, 0);
  if (auto* manager = qobject_cast<pqSelectionManager*>(
        pqApplicationCore::instance()->manager("SELECTION_MANAGER")))
  {
    manager->select(this->Port);
  }
  pqApplicationCore::instance()->render();
}
