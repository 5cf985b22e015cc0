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
