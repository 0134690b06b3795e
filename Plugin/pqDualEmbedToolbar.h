// The DualEmbed toolbar: Compare Embeddings builds the comparison layout from
// the active source (a results file, or any pipeline whose samples carry two
// embeddings) with the same Python code as dualembed.layout.compare() in
// scripts. After an Apply it resets the camera of the views that show a
// projection (the points moved from the reader's grid to the map), and moves a
// DualEmbed filter that ParaView drew in a chart view (the layout's histogram,
// when it was the active view) to a render view of the same layout. Select
// Issues lists the active samples' flags (Data Issues' is_<issue>_<X>) and
// selects the flagged samples in one click. After a state is loaded it
// reconnects the comparison layout in it (dualembed.layout.restore).
#ifndef pqDualEmbedToolbar_h
#define pqDualEmbedToolbar_h

#include <QToolBar>

#include <string>

class QMenu;
class pqPipelineSource;
class pqProxy;

class pqDualEmbedToolbar : public QToolBar
{
  Q_OBJECT
  using Superclass = QToolBar;

public:
  pqDualEmbedToolbar(QWidget* parent = nullptr);
  ~pqDualEmbedToolbar() override = default;

private Q_SLOTS:
  void compareEmbeddings();
  void selectTopOutliers();
  /// After File › Load State: dualembed.layout.restore() reconnects a loaded comparison layout.
  void restoreLayout();
  /// Fills the Select Issues menu with the active samples' flags.
  void listIssues();
  /// After Apply: a projection moved its points, so fit the views to them; keep
  /// DualEmbed filters out of chart views.
  void onApplied(pqProxy* proxy);

private:
  /// Runs Python in the GUI's interpreter; dualembed.layout.run_action reports
  /// errors in the Output Messages.
  static void runPython(const std::string& code);
  /// ParaView shows a new filter in the active view; a chart view draws it as a
  /// histogram of its first array (a comb of labels), which no DualEmbed output is for.
  static void moveOutOfCharts(pqPipelineSource* source);

  QMenu* Issues;
};

#endif
