// The DualEmbed toolbar: Compare Embeddings builds the comparison layout from
// the active source (a results file, or any pipeline whose samples carry two
// embeddings) with the same Python code as dualembed.layout.compare() in
// scripts. It also resets the camera of the views that show a projection once
// it is applied (the points moved from the reader's grid to the map).
#ifndef pqDualEmbedToolbar_h
#define pqDualEmbedToolbar_h

#include <QToolBar>

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
  /// After Apply: a projection moved its points, so fit the views to them.
  void onApplied(pqProxy* proxy);

private:
  /// Runs Python in the GUI's interpreter; errors go to the Output Messages.
  static void runPython(const char* code);
};

#endif
