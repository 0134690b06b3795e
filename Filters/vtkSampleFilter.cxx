#include "vtkSampleFilter.h"

#include "FilterSupport.h"

#include "vtkInformationVector.h"

vtkSampleFilter::vtkSampleFilter()
  : Last(new dualembed::ReusableResult)
{
}

vtkSampleFilter::~vtkSampleFilter() = default;

int vtkSampleFilter::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  return dualembed::emptyOnFailure(this, output, [&] {
    vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
    const dualembed::SampleExchange exchange(input ? input->GetNumberOfPoints() : 0);
    if (dualembed::passEmptyInput(input, output, exchange))
    {
      this->InputWasEmpty(request);
      return 1;
    }
    return this->Execute(request, input, output, exchange);
  });
}

void vtkSampleFilter::InputWasEmpty(vtkInformation*) {}

int vtkSampleFilter::ExecuteOnGatheredArray(vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange, const dualembed::ArrayChoice& choice,
  const std::function<void(const dualembed::SelectedArray&)>& compute,
  const std::function<std::vector<std::string>(const dualembed::SelectedArray&)>& publish,
  bool gather)
{
  vtkAbstractArray* selected = nullptr;
  if (!dualembed::chooseInputArray(this, 0, input, choice, exchange, selected))
  {
    return 0;
  }
  output->ShallowCopy(input);
  if (this->Last->reuse(this, selected, exchange, output))
  {
    return 1;
  }
  dualembed::SelectedArray rows;
  if (!dualembed::gatherSelectedArray(this, selected, exchange,
        gather ? dualembed::GatherTo::AllRanks : dualembed::GatherTo::None, rows))
  {
    return 0;
  }
  std::vector<std::string> added;
  const int done = dualembed::runEngine(
    this, exchange, [&] { compute(rows); }, [&] { added = publish(rows); });
  if (done)
  {
    this->Last->keep(this, selected, output, added);
  }
  return done;
}

void vtkSampleFilter::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
}
