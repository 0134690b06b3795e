"""The GUI test's starting point (paraview --script): the demo's fine-tuning run as time steps.

Reader (500 Fashion-MNIST test images) -> Image Embedding (foundation) -> Checkpoint Embedding
(Data/models/fashion-vit-ft-run) -> Training Dynamics, shown and active, as a user leaves them
after Apply. DUALEMBED_MODELS_DIR names Data/models.
"""
import os

from paraview import simple

models = os.environ["DUALEMBED_MODELS_DIR"]
samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                    MaxSamples=int(os.environ.get("DUALEMBED_SAMPLES", "500")))
foundation = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, "fashion-vit-foundation"),
                                   Tag="foundation")
run = simple.CheckpointEmbedding(Input=foundation, RunPath=os.path.join(models, "fashion-vit-ft-run"))
simple.Show(run)
dynamics = simple.TrainingDynamics(Input=run)
simple.Hide(run)
simple.Show(dynamics)
simple.SetActiveSource(dynamics)
simple.Render()
