"""What the calibration knows about a camera view, handed to the detector as plain arrays.

The detector must not import the calibration code (imports point one way, STYLE.md section 2), so
the runtime turns its calibration into :class:`SceneHints`: the expected height in pixels of a
standing person whose feet are on each image row, and the walkable floor projected into the image.
The constructors here take plain matrices and numbers, never a layout object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

NOMINAL_PERSON_HEIGHT_M = 1.7


@dataclass(frozen=True)
class SceneHints:
    """Per-camera scene knowledge for scale-aware detection.

    Attributes:
        person_height_px: ``(H,)`` expected height in pixels of a standing person whose feet are on
            image row ``y``; NaN where no floor is visible on that row.
        floor_mask: ``(H, W)`` bool, True where the walkable floor is seen, or None for the whole image.
    """

    person_height_px: np.ndarray
    floor_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        heights = np.array(self.person_height_px, dtype=np.float64, copy=True)
        if heights.ndim != 1 or len(heights) == 0:
            raise ValueError(f"person_height_px must have shape (H,), got shape {heights.shape}")
        finite = heights[np.isfinite(heights)]
        if np.any(np.isinf(heights)):
            raise ValueError("person_height_px must be finite or NaN, got infinity")
        if np.any(finite <= 0):
            raise ValueError(f"person_height_px must be positive where finite, got minimum {finite.min():.3g}")
        heights.flags.writeable = False
        object.__setattr__(self, "person_height_px", heights)
        if self.floor_mask is not None:
            mask = np.array(self.floor_mask, dtype=bool, copy=True)
            if mask.ndim != 2 or mask.shape[0] != len(heights):
                raise ValueError(
                    f"floor_mask must have shape ({len(heights)}, W) to match person_height_px, got shape {mask.shape}"
                )
            mask.flags.writeable = False
            object.__setattr__(self, "floor_mask", mask)

    @property
    def height_rows(self) -> int:
        """Image height ``H`` in pixels that these hints describe."""
        return len(self.person_height_px)

    def expected_height_px(self, foot_y_px: npt.ArrayLike) -> np.ndarray:
        """Expected person height ``(n,)`` in pixels for feet on rows ``foot_y_px`` ``(n,)``; NaN off the floor."""
        rows = np.clip(np.round(np.asarray(foot_y_px, dtype=np.float64)), 0, self.height_rows - 1).astype(int)
        return self.person_height_px[rows]

    @classmethod
    def from_near_far(
        cls,
        *,
        image_wh: tuple[int, int],
        near_row_px: float,
        near_height_px: float,
        far_row_px: float,
        far_height_px: float,
        floor_mask: np.ndarray | None = None,
    ) -> SceneHints:
        """Hints from two operator-set heights, linear in the image row (a flat floor seen by a pinhole).

        Args:
            image_wh: Frame size ``(W, H)`` in pixels.
            near_row_px: A foot row near the camera (lower in the image).
            near_height_px: Height of a person standing there, pixels.
            far_row_px: A foot row far from the camera (higher in the image).
            far_height_px: Height of a person standing there, pixels.
            floor_mask: Optional ``(H, W)`` walkable floor mask.

        Raises:
            ValueError: The two rows coincide or a height is not positive.
        """
        if near_row_px == far_row_px:
            raise ValueError(f"near_row_px and far_row_px must differ, got {near_row_px} for both")
        if near_height_px <= 0 or far_height_px <= 0:
            raise ValueError(f"heights must be positive, got near {near_height_px}, far {far_height_px}")
        rows = np.arange(image_wh[1], dtype=np.float64)
        slope = (near_height_px - far_height_px) / (near_row_px - far_row_px)
        heights = far_height_px + slope * (rows - far_row_px)
        # Above the horizon of this linear model the height would go to zero or below: no floor there.
        heights[heights < 2.0] = np.nan
        return cls(person_height_px=heights, floor_mask=floor_mask)

    @classmethod
    def from_image_to_floor(
        cls,
        *,
        image_to_floor: npt.ArrayLike,
        image_wh: tuple[int, int],
        person_height_m: float = NOMINAL_PERSON_HEIGHT_M,
        floor_polygon_m: npt.ArrayLike | None = None,
    ) -> SceneHints:
        """Hints from an image-to-floor homography, assuming square pixels and a central principal point.

        A homography alone does not say how tall a person looks; with the usual pinhole assumptions
        (no skew, square pixels, principal point at the image centre) it determines the focal length
        and the camera pose, hence where a head 1.7 m above each foot point appears.

        Args:
            image_to_floor: ``(3, 3)`` homography, image pixels -> floor metres.
            image_wh: Frame size ``(W, H)`` in pixels.
            person_height_m: Nominal standing height, metres.
            floor_polygon_m: Optional ``(k, 2)`` walkable polygon in floor metres; its image becomes the mask.

        Raises:
            ValueError: The homography is singular or admits no real focal length.
        """
        projection = camera_from_homography(image_to_floor=image_to_floor, image_wh=image_wh)
        width, height = image_wh
        heights = person_heights_from_projection(
            projection=projection, image_to_floor=image_to_floor, image_wh=image_wh, person_height_m=person_height_m
        )
        mask = None
        if floor_polygon_m is not None:
            polygon = np.asarray(floor_polygon_m, dtype=np.float64).reshape(-1, 2)
            floor_to_image = np.linalg.inv(np.asarray(image_to_floor, dtype=np.float64))
            mask = floor_polygon_to_mask(polygon_m=polygon, floor_to_image=floor_to_image, image_wh=(width, height))
            heights[~mask.any(axis=1)] = np.nan
        return cls(person_height_px=heights, floor_mask=mask)


def camera_from_homography(*, image_to_floor: npt.ArrayLike, image_wh: tuple[int, int]) -> np.ndarray:
    """The ``(3, 4)`` projection matrix (floor metres with z up -> image) implied by a homography.

    Raises:
        ValueError: The homography is singular, or the focal length it implies is not real.
    """
    h_inv = np.asarray(image_to_floor, dtype=np.float64)
    if h_inv.shape != (3, 3):
        raise ValueError(f"image_to_floor must have shape (3, 3), got shape {h_inv.shape}")
    if abs(np.linalg.det(h_inv)) < 1e-15:
        raise ValueError("image_to_floor is singular")
    floor_to_image = np.linalg.inv(h_inv)
    cx, cy = image_wh[0] / 2.0, image_wh[1] / 2.0
    centred = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=np.float64) @ floor_to_image
    g1, g2 = centred[:, 0], centred[:, 1]
    # r1 . r2 = 0 and |r1| = |r2| each give f^2; use whichever is well conditioned and positive.
    candidates = []
    if abs(g1[2] * g2[2]) > 1e-12:
        candidates.append(-(g1[0] * g2[0] + g1[1] * g2[1]) / (g1[2] * g2[2]))
    if abs(g1[2] ** 2 - g2[2] ** 2) > 1e-12:
        candidates.append(-(g1[0] ** 2 + g1[1] ** 2 - g2[0] ** 2 - g2[1] ** 2) / (g1[2] ** 2 - g2[2] ** 2))
    positive = [c for c in candidates if c > 0 and math.isfinite(c)]
    if not positive:
        raise ValueError(
            "image_to_floor implies no real focal length (a fronto-parallel or inconsistent view); "
            "give near/far person heights instead"
        )
    focal = math.sqrt(positive[0])
    k = np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1]], dtype=np.float64)
    rt = np.linalg.inv(k) @ floor_to_image
    scale = (np.linalg.norm(rt[:, 0]) + np.linalg.norm(rt[:, 1])) / 2.0
    rt /= scale
    if rt[2, 2] < 0:  # the floor origin must lie in front of the camera
        rt = -rt
    r1, r2, t = rt[:, 0], rt[:, 1], rt[:, 2]
    r3 = np.cross(r1, r2)
    return k @ np.column_stack((r1, r2, r3, t))


def person_heights_from_projection(
    *,
    projection: np.ndarray,
    image_to_floor: npt.ArrayLike,
    image_wh: tuple[int, int],
    person_height_m: float = NOMINAL_PERSON_HEIGHT_M,
) -> np.ndarray:
    """Expected person height ``(H,)`` in pixels per foot row: median over columns; NaN above the horizon."""
    width, height = image_wh
    h_inv = np.asarray(image_to_floor, dtype=np.float64)
    columns = np.linspace(0, width - 1, 9)
    rows = np.arange(height, dtype=np.float64)
    uu, vv = np.meshgrid(columns, rows)
    feet_px = np.stack((uu.ravel(), vv.ravel(), np.ones(uu.size)))
    floor = h_inv @ feet_px
    in_front = floor[2] > 1e-12
    floor_xy = floor[:2] / np.where(in_front, floor[2], 1.0)
    out = np.full(uu.size, np.nan)
    for sign in (1.0, -1.0):  # the floor's z axis may point either way; the head must be above the feet
        head = projection @ np.vstack((floor_xy, np.full(uu.size, sign * person_height_m), np.ones(uu.size)))
        head_v = head[1] / np.where(np.abs(head[2]) > 1e-12, head[2], np.nan)
        tall = vv.ravel() - head_v
        if np.nanmedian(np.where(in_front, tall, np.nan)) > 0:
            out = np.where(in_front & (head[2] > 0) & (tall > 0), tall, np.nan)
            break
    per_row = out.reshape(uu.shape)
    with np.errstate(all="ignore"):
        valid_counts = np.sum(np.isfinite(per_row), axis=1)
        medians = np.full(height, np.nan)
        has = valid_counts > 0
        medians[has] = np.nanmedian(per_row[has], axis=1)
    return medians


def floor_polygon_to_mask(
    *, polygon_m: np.ndarray, floor_to_image: np.ndarray, image_wh: tuple[int, int]
) -> np.ndarray:
    """Rasterise a floor polygon ``(k, 2)`` metres into an ``(H, W)`` bool image mask."""
    width, height = image_wh
    # Densify edges so that parts of the polygon behind the camera do not fold over the image.
    dense = []
    for a, b in zip(polygon_m, np.roll(polygon_m, -1, axis=0), strict=True):
        for t in np.linspace(0, 1, 50, endpoint=False):
            dense.append(a + (b - a) * t)
    pts = np.column_stack((np.asarray(dense), np.ones(len(dense)))) @ floor_to_image.T
    keep = pts[:, 2] > 1e-9
    image_pts = pts[keep, :2] / pts[keep, 2:3]
    mask = np.zeros((height, width), dtype=np.uint8)
    if len(image_pts) >= 3:
        clipped = np.clip(image_pts, -4 * width, 5 * width).round().astype(np.int32)
        cv2.fillPoly(mask, [clipped], 1)
    return mask.astype(bool)
