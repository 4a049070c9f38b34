"""The one definition of what a model input is.

Every path into a model -- MNIST for training and evaluation, a canvas drawing, an upload --
produces exactly this: a ``(28, 28)`` float32 image in ``[0, 1]``, white (1.0) digit on a black
(0.0) background, the digit's longer side scaled to 20 px and its centre of mass at the centre.
"""

IMAGE_SIZE = 28
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
NUM_CLASSES = 10
# MNIST fitted each digit in a 20x20 box before centring it by mass in the 28x28 field.
DIGIT_BOX = 20
# MNIST stores pixels as uint8 0..255; models see them divided by this.
PIXEL_MAX = 255.0
