"""The calibration tool's texts in Japanese and English.

The language of a request is chosen as in the web tier (:func:`station.languages.choose_language`:
``?lang=``, the ``crowdmap_lang`` cookie, the browser, else Japanese). The texts of the page's
script are in ``static/i18n.js``; the fit's own error messages come from the server in English and
the script translates the known ones.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "tool": "カメラの校正",
        "camera": "カメラ",
        "operator": "オペレーター",
        "logout": "ログアウト",
        "switch_to": "English",
        "hint": (
            "カメラ画像の点をクリックし、次に平面図の同じ場所をクリックします(逆の順でも構いません)。"
            "ドラッグで表示を動かし、ホイールまたは + と − で拡大・縮小します。点はドラッグで動かせます。"
            "行を選んで Delete キーを押すか、行のボタンで組を削除します。"
            "床の上で、見つけやすく、画面全体に散らばった点を4組以上(6組以上で1点抜き誤差も確認)選んでください。"
        ),
        "still": "カメラ画像",
        "new_still": "新しい画像",
        "plan": "平面図",
        "show_grid": "画像に床のグリッドを表示",
        "show_coverage": "カメラの範囲を表示",
        "show_drawing": "図面を表示",
        "zoom_in": "拡大",
        "zoom_out": "縮小",
        "zoom_reset": "全体を表示",
        "cursor": "カーソル",
        "type_title": "測った平面座標を入力",
        "type_for": "組",
        "type_new": "次の点",
        "type_set": "平面の点を設定",
        "pair": "番号",
        "image_px": "画像 (px)",
        "plan_m": "平面 (m)",
        "residual_m": "残差 (m)",
        "loo_m": "1点抜き誤差 (m)",
        "save": "校正を保存",
        "reload": "保存済みの組を読み直す",
        "login_title": "カメラの校正",
        "login_hint": "オペレーター専用です。このツールはカメラのエッジノードで動作し、カメラの映像を表示します。",
        "name": "名前",
        "password": "パスワード",
        "login": "ログイン",
        "login_invalid": "名前とパスワードを入力してください。",
        "login_bad": "名前またはパスワードが違うか、オペレーターではありません。",
        "login_limited": "ログインの失敗が多すぎます。{retry_after_s}秒後にお試しください。",
    },
    "en": {
        "tool": "Camera calibration",
        "camera": "camera",
        "operator": "operator",
        "logout": "Log out",
        "switch_to": "日本語",
        "hint": (
            "Click a point on the camera image, then the same spot on the plan (or the other way round)."
            " Drag to move the view; zoom with the wheel or + and −. Drag a point to move it; select a row"
            " and press Delete, or use its button, to remove a pair. At least 4 pairs on the floor, easy to"
            " find, spread over the view and not on one line; 6 or more give a leave-one-out check."
        ),
        "still": "Camera still",
        "new_still": "New still",
        "plan": "Floor plan",
        "show_grid": "floor grid on the image",
        "show_coverage": "camera coverage",
        "show_drawing": "plan drawing",
        "zoom_in": "Zoom in",
        "zoom_out": "Zoom out",
        "zoom_reset": "Show all",
        "cursor": "Cursor",
        "type_title": "Type measured plan coordinates",
        "type_for": "for",
        "type_new": "the next point",
        "type_set": "Set plan point",
        "pair": "#",
        "image_px": "image (px)",
        "plan_m": "plan (m)",
        "residual_m": "residual (m)",
        "loo_m": "leave-one-out (m)",
        "save": "Save calibration",
        "reload": "Reload stored pairs",
        "login_title": "Camera calibration",
        "login_hint": "Operators only. This tool runs on the camera's edge node and shows the camera view.",
        "name": "Name",
        "password": "Password",
        "login": "Log in",
        "login_invalid": "Enter a name and a password.",
        "login_bad": "Wrong name or password, or not an operator.",
        "login_limited": "Too many failed logins. Try again in {retry_after_s} s.",
    },
}


# The operator's line about a camera's people sizes against its detector (``calibrator.detector_range``),
# built from numbers with these phrases, so both languages say the same. ``detail`` is the error's own
# (English) words; the Japanese line names the problem without them.
DETECTOR_RANGE_TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "sep": "。",
        "people": "人の高さは {low:.0f}〜{high:.0f} px",
        "reliable_one": "{backend} が確実に人を見つけるのは床の写る行の {share:.0%}(画像全体とタイル {tiles} 枚)",
        "reliable_many": "{backend} が確実に人を見つけるのは床の写る行の {share:.0%}(画像全体とタイル {tiles} 枚)",
        "not_on": "{spans}{more}では確実ではありません",
        "span": "{first}〜{last} 行目({low:.0f}〜{high:.0f} px)",
        "row": "{first} 行目({low:.0f} px)",
        "join": "、",
        "more": " ほか {count} か所",
        "pose_unknown": "人の高さが分かりません(この校正からはカメラの位置が求まりません)",
        "no_floor_rows": "画像のどの行にも歩ける床が写っていません",
        "backend_unmeasured": "検出器 {backend} が確実に見つけられる人の大きさは測定されていません",
    },
    "en": {
        "sep": "; ",
        "people": "people {low:.0f}-{high:.0f} px tall",
        "reliable_one": "{backend} reliable on {share:.0%} of the floor rows (whole frame + {tiles} tile)",
        "reliable_many": "{backend} reliable on {share:.0%} of the floor rows (whole frame + {tiles} tiles)",
        "not_on": "not on {spans}{more}",
        "span": "rows {first}-{last} ({low:.0f}-{high:.0f} px)",
        "row": "row {first} ({low:.0f} px)",
        "join": ", ",
        "more": " and {count} more",
        "pose_unknown": "person heights unknown: {detail}",
        "no_floor_rows": "no image row sees the walkable floor",
        "backend_unmeasured": "{detail}",
    },
}
