#include "pqDualEmbedToolbar.h"

#include "pqActiveObjects.h"
#include "pqApplicationCore.h"
#include "pqCoreUtilities.h"
#include "pqOutputPort.h"
#include "pqPipelineSource.h"
#include "pqPropertiesPanel.h"
#include "pqView.h"
#include "vtkNew.h"
#include "vtkPVArrayInformation.h"
#include "vtkPVDataInformation.h"
#include "vtkPVDataSetAttributesInformation.h"
#include "vtkPVXMLElement.h"
#include "vtkPythonInterpreter.h"
#include "vtkSMParaViewPipelineControllerWithRendering.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMProxyLocator.h"
#include "vtkSMRenderViewProxy.h"
#include "vtkSMSourceProxy.h"
#include "vtkSMViewLayoutProxy.h"
#include "vtkSMViewProxy.h"

#include <QAction>
#include <QKeySequence>
#include <QMenu>
#include <QTimer>
#include <QToolButton>

#include <cstring>

#include <string>

pqDualEmbedToolbar::pqDualEmbedToolbar(QWidget* parent)
  : Superclass(tr("DualEmbed"), parent)
{
  this->setObjectName("DualEmbedToolbar");
  QAction* compare = this->addAction(QIcon(":/DualEmbed/compare.svg"), tr("Compare Embeddings"));
  compare->setObjectName("actionCompareEmbeddings");
  compare->setToolTip(
    tr("Compare Embeddings: two linked maps (foundation, fine-tuned), a spreadsheet and "
       "a histogram of the outlier score for the active source — a results file or the "
       "last filter of a pipeline whose samples carry two embeddings. Missing outlier "
       "scores, nearest neighbours and projections are computed."));
  compare->setIconText(tr("Compare Embeddings"));
  compare->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
  compare->setShortcutContext(Qt::ApplicationShortcut);
  this->connect(compare, &QAction::triggered, this, &pqDualEmbedToolbar::compareEmbeddings);
  QAction* outliers = this->addAction(QIcon(":/DualEmbed/outliers.svg"), tr("Select Top Outliers"));
  outliers->setObjectName("actionSelectTopOutliers");
  outliers->setToolTip(
    tr("Select the foundation embedding's 8 strongest outliers in the comparison layout."));
  this->connect(outliers, &QAction::triggered, this, &pqDualEmbedToolbar::selectTopOutliers);
  this->Issues = new QMenu(this);
  QAction* issues = this->addAction(QIcon(":/DualEmbed/outliers.svg"), tr("Select Issues"));
  issues->setObjectName("actionSelectIssues");
  issues->setToolTip(tr(
    "Select the samples that Data Issues flagged (label issues, near duplicates, ...) "
    "in the active samples, in the comparison layout's maps, spreadsheet and Sample Inspector."));
  issues->setMenu(this->Issues);
  this->connect(this->Issues, &QMenu::aboutToShow, this, &pqDualEmbedToolbar::listIssues);
  if (auto* button = qobject_cast<QToolButton*>(this->widgetForAction(issues)))
  {
    button->setPopupMode(QToolButton::InstantPopup); // a click opens the list
  }
  this->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

  // A loaded state (File › Load State) brings back the comparison layout but
  // not the Python observers that draw its selections: reconnect them once
  // ParaView has finished loading.
  this->connect(pqApplicationCore::instance(), &pqApplicationCore::stateLoaded, this,
    [this]() { QTimer::singleShot(0, this, &pqDualEmbedToolbar::restoreLayout); });

  // The Properties panel exists once the main window is complete.
  QTimer::singleShot(0, this, [this]() {
    QWidget* window = pqCoreUtilities::mainWidget();
    for (pqPropertiesPanel* panel :
      window ? window->findChildren<pqPropertiesPanel*>() : QList<pqPropertiesPanel*>())
    {
      this->connect(panel, QOverload<pqProxy*>::of(&pqPropertiesPanel::applied), this,
        &pqDualEmbedToolbar::onApplied);
    }
  });
}

void pqDualEmbedToolbar::runPython(const std::string& code)
{
  // Not pqPythonManager::executeCode: that runs the code in the Python Shell,
  // which captures VTK's messages, so dualembed's errors never reached the
  // Output Messages, only the shell and the terminal (with every earlier
  // import message of the shell before them).
  vtkPythonInterpreter::Initialize();
  vtkPythonInterpreter::RunSimpleString(code.c_str());
}

void pqDualEmbedToolbar::compareEmbeddings()
{
  runPython(
    "import paraview.servermanager  # its module finder serves the plugin's Python package\n"
    "import dualembed.layout\n"
    "dualembed.layout.run_action(dualembed.layout.compare_active_source)\n");
}

void pqDualEmbedToolbar::restoreLayout()
{
  runPython("import paraview.servermanager\n"
            "import dualembed.layout\n"
            "dualembed.layout.run_action(dualembed.layout.restore)\n");
}

void pqDualEmbedToolbar::selectTopOutliers()
{
  runPython("import paraview.servermanager\n"
            "import dualembed.layout\n"
            "dualembed.layout.run_action(dualembed.layout.select_top_outliers)\n");
}

namespace
{
/// `text` as a Python string literal (array names come from user tags).
std::string pythonString(const std::string& text)
{
  std::string quoted = "'";
  for (char c : text)
  {
    quoted += (c == '\\' || c == '\'') ? std::string("\\") + c : std::string(1, c);
  }
  return quoted + "'";
}
}

void pqDualEmbedToolbar::listIssues()
{
  this->Issues->clear();
  pqPipelineSource* source = pqActiveObjects::instance().activeSource();
  vtkPVDataInformation* info = source ? source->getOutputPort(0)->getDataInformation() : nullptr;
  vtkPVDataSetAttributesInformation* pd = info ? info->GetPointDataInformation() : nullptr;
  for (int i = 0; pd && i < pd->GetNumberOfArrays(); ++i)
  {
    const std::string name = pd->GetArrayInformation(i)->GetName();
    if (name.rfind("is_", 0) != 0)
    {
      continue;
    }
    // is_label_issue_ft -> "label issue (ft)"; the tag is what follows the issue's own words.
    QString text = QString::fromStdString(name.substr(3)).replace('_', ' ');
    for (const char* tag : { " foundation", " ft" })
    {
      if (text.endsWith(tag))
      {
        text = text.left(text.size() - int(strlen(tag))) + " (" + QString(tag).trimmed() + ")";
      }
    }
    QAction* action = this->Issues->addAction(text);
    action->setObjectName(QString::fromStdString("select_" + name));
    this->connect(action, &QAction::triggered, this, [name]() {
      runPython("import paraview.servermanager\nimport dualembed.layout\n"
                "dualembed.layout.run_action(dualembed.layout.select_flagged, " +
        pythonString(name) + ")\n");
    });
  }
  if (this->Issues->isEmpty())
  {
    this->Issues
      ->addAction(tr("No flags here: apply Filters > DualEmbed > Data Issues to the samples first"))
      ->setEnabled(false);
  }
}

namespace
{
/// The proxy that `proxy`'s Input names: a filter's input, a representation's source.
vtkSMProxy* inputOf(vtkSMProxy* proxy)
{
  return proxy && proxy->GetProperty("Input")
    ? vtkSMPropertyHelper(proxy, "Input", true).GetAsProxy()
    : nullptr;
}

/// Whether `source` is `ancestor` or reads it, directly or through other filters.
bool derivesFrom(vtkSMProxy* source, vtkSMProxy* ancestor)
{
  for (int depth = 0; source && depth < 64; ++depth, source = inputOf(source))
  {
    if (source == ancestor)
    {
      return true;
    }
  }
  return false;
}

/// The render view of `layout` that shows samples derived from `input` (the
/// layout's map of them), else its first render view.
vtkSMViewProxy* renderViewFor(vtkSMViewLayoutProxy* layout, vtkSMProxy* input)
{
  vtkSMViewProxy* first = nullptr;
  for (vtkSMViewProxy* view : layout ? layout->GetViews() : std::vector<vtkSMViewProxy*>())
  {
    if (!vtkSMRenderViewProxy::SafeDownCast(view))
    {
      continue;
    }
    first = first ? first : view;
    vtkSMPropertyHelper representations(view, "Representations");
    for (unsigned int i = 0; input && i < representations.GetNumberOfElements(); ++i)
    {
      vtkSMProxy* representation = representations.GetAsProxy(i);
      vtkSMProxy* shown = inputOf(representation);
      if (shown && vtkSMPropertyHelper(representation, "Visibility", true).GetAsInt() &&
        derivesFrom(shown, input))
      {
        return view;
      }
    }
  }
  return first;
}

bool isDualEmbedFilter(vtkSMProxy* proxy)
{
  vtkPVXMLElement* hints = proxy ? proxy->GetHints() : nullptr;
  vtkPVXMLElement* menu = hints ? hints->FindNestedElementByName("ShowInMenu") : nullptr;
  const char* category = menu ? menu->GetAttribute("category") : nullptr;
  return category && std::string(category) == "DualEmbed";
}
}

void pqDualEmbedToolbar::moveOutOfCharts(pqPipelineSource* source)
{
  vtkNew<vtkSMParaViewPipelineControllerWithRendering> controller;
  auto* proxy = vtkSMSourceProxy::SafeDownCast(source->getProxy());
  for (pqView* view : source->getViews())
  {
    vtkSMViewProxy* chart = view->getViewProxy();
    if (vtkSMRenderViewProxy::SafeDownCast(chart) || !controller->GetVisibility(proxy, 0, chart))
    {
      continue;
    }
    controller->Hide(proxy, 0, chart);
    // Histogram views show one representation at a time: showing the filter hid
    // the one the chart had (the layout's histogram), so bring that back.
    vtkSMPropertyHelper representations(chart, "Representations");
    for (unsigned int i = 0; i < representations.GetNumberOfElements(); ++i)
    {
      vtkSMProxy* shown = inputOf(representations.GetAsProxy(i));
      if (shown && shown != proxy)
      {
        controller->Show(vtkSMSourceProxy::SafeDownCast(shown), 0, chart);
        break;
      }
    }
    view->render();
    if (vtkSMViewProxy* map =
          renderViewFor(vtkSMViewLayoutProxy::FindLayout(chart), inputOf(proxy)))
    {
      controller->Show(proxy, 0, map);
      map->StillRender();
    }
  }
}

void pqDualEmbedToolbar::onApplied(pqProxy* proxy)
{
  auto* source = qobject_cast<pqPipelineSource*>(proxy);
  if (source && isDualEmbedFilter(source->getProxy()))
  {
    moveOutOfCharts(source);
  }
  if (!source || std::string(source->getProxy()->GetXMLName()) != "EmbeddingProjection")
  {
    return;
  }
  for (pqView* view : source->getViews())
  {
    // Fitted to the map's own bounds: the view's bounds at this point still
    // hold the map this Apply replaces (another method or parameter), and a
    // reset to both left the new map off-centre.
    view->getViewProxy()->Update();
    double bounds[6];
    source->getOutputPort(0)->getDataInformation()->GetBounds(bounds);
    auto* render = vtkSMRenderViewProxy::SafeDownCast(view->getViewProxy());
    if (render && bounds[0] <= bounds[1])
    {
      render->ResetCamera(bounds);
    }
    else
    {
      view->resetDisplay();
    }
    view->render();
  }
}
