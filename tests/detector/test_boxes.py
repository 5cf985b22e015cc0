import numpy as np

from detector.boxes import areas, intersections, iou_matrix


def test_overlaps_of_known_boxes() -> None:
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 40]])
    b = np.array([[5, 5, 15, 15], [0, 0, 10, 10], [100, 100, 101, 101]])
    np.testing.assert_array_equal(areas(a), [100, 200])
    np.testing.assert_array_equal(intersections(a, b), [[25, 100, 0], [0, 0, 0]])
    np.testing.assert_allclose(iou_matrix(a, b), [[25 / 175, 1.0, 0.0], [0.0, 0.0, 0.0]])


def test_one_box_and_no_boxes() -> None:
    box = np.array([0, 0, 4, 4])
    assert iou_matrix(box, box).shape == (1, 1) and iou_matrix(box, box)[0, 0] == 1.0
    assert iou_matrix(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)
    assert intersections(box, np.zeros((0, 4))).shape == (1, 0)


def test_touching_and_inverted_boxes_overlap_nothing() -> None:
    assert intersections(np.array([0, 0, 1, 1]), np.array([1, 0, 2, 1]))[0, 0] == 0
    assert areas(np.array([[5, 5, 1, 1]]))[0] == 0
