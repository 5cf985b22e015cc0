"""Japanese and English texts of the server-rendered pages, and the choice of language."""

from __future__ import annotations

from flask import Request

LANGUAGES = ("ja", "en")
LANG_COOKIE = "crowdmap_lang"

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "駅の混雑マップ",
        "skip": "本文へ移動",
        "language": "言語",
        "switch_to": "English",
        "floors": "フロア",
        "map": "地図",
        "list": "一覧",
        "legend": "凡例",
        "moving": "移動中の人",
        "stopped": "立ち止まっている人",
        "no_data": "データなし",
        "last_update": "最終更新",
        "waiting": "データを待っています…",
        "zones": "エリアごとの混雑",
        "map_help": "エリアをタップすると名前と混雑度を表示します。+ と − のボタンまたはピンチで拡大・縮小できます。",
        "privacy": "カメラ利用とプライバシーについて",
        "simulation": "シミュレーション(実際の駅ではありません)",
        "notice_title": "カメラ画像の利用についてのお知らせ",
        "notice_intro": (
            "この地図は駅構内のカメラ映像から人の位置だけを検出し、匿名のアイコンに変換して表示しています。"
        ),
        "operator": "運営者",
        "purpose": "利用目的",
        "captured": "取得する情報と生成する情報",
        "retention": "保存期間",
        "contact": "お問い合わせ先",
        "contact_details": "連絡方法",
        "open_data": "混雑データの公開",
        "camera_places": "カメラの設置場所",
        "cameras_on_floor": "%s: カメラ%d台",
        "cameras_see": "。映しているエリア: ",
        "list_sep": "、",
        "cameras_map_note": "地図では、カメラに映らない床を点の模様で示しています。",
        "no_cameras": "この駅にはカメラがありません。",
        "data_requests": "ご自身のデータについて",
        "back_to_map": "地図に戻る",
        "login": "ログイン",
        "logout": "ログアウト",
        "username": "ユーザー名",
        "password": "パスワード",
        "login_failed": "ユーザー名またはパスワードが違います。",
        "login_limited": "ログインの試行が多すぎます。しばらくしてからお試しください。",
        "staff": "スタッフ用ダッシュボード",
        "role_staff": "スタッフ",
        "role_operator": "オペレーター",
        "alert_sound": "新しいアラートで音を鳴らす",
        "scales_title": "2つの尺度: 利用者向けの混雑度とサービス水準(Fruin)",
        "scales_intro": (
            "利用者向けの地図は4段階の混雑度を言葉と色で示します。スタッフ用にはFruinのサービス水準(LOS、A〜F)も"
            "示します。混雑度の境目はエリアごとに設定でき、既定ではLOSに従います(A・B: 空いています、C: やや混雑、"
            "D: 混雑、E・F: 大変混雑)。各エリアの境目はそのエリアのグラフに線で示します。"
        ),
        "public_scale": "利用者向けの混雑度",
        "level_word": "表示",
        "meaning": "意味",
        "default_from": "既定の境目",
        "los_scale": "サービス水準(Fruin、人/m²の上限)",
        "walkway": "通路",
        "queuing": "滞留(ホーム・列)",
        "export_csv": "CSVで書き出す",
        "alerts": "アラート",
        "alert_history": "過去のアラート",
        "live_map": "現在の地図",
        "areas": "エリア",
        "cameras": "カメラ",
        "op_calibrate_title": "カメラの校正",
        "op_calibrate_intro": (
            "校正ツールはカメラのエッジノードで動き、カメラの映像を表示するため、外部には公開しません。"
            "SSHトンネルで接続してください。この画面には画像を表示しません。"
        ),
        "op_step_tunnel": "エッジノードへのトンネルを開く:",
        "op_step_start": "エッジノードで校正ツールを起動する:",
        "op_step_open": "ブラウザで開く:",
        "op_step_check": "保存後、駅全体を確認する:",
        "op_no_check": (
            "カメラの確認結果がありません(このウェブプロセスでは確認を実行できませんでした)。次で確認してください:"
        ),
        "op_check_at": "レイアウト確認",
        "op_check_ok": "%d台のカメラはすべて正常に校正されています",
        "op_check_failed": "%d台(全%d台中)のカメラの校正が信頼できません",
        "op_coverage": "歩行可能な床の%d%%をカメラが見ています(%d / %d m²)",
        "op_kind": "校正の種類",
        "op_pairs": "%d組の点",
        "op_rms": "誤差(RMS)",
        "op_loo": "1点抜き誤差(RMS)",
        "op_limit": "上限",
        "op_seen": "見ている床",
        "op_zones": "見ているエリア",
        "op_detector": "人の大きさと検出器",
        "op_failed": "校正が信頼できません",
        "kind_point_pairs": "点の組",
        "kind_image_to_floor": "射影行列",
        "kind_camera_model": "カメラモデル",
        "state_live": "稼働中",
        "state_reconnecting": "再接続中",
        "state_stalled": "停滞",
        "state_dead": "停止",
        "state_unknown": "報告なし",
        "operator_tools": "オペレーター用ツール",
        "station": "駅",
        "connection_lost": "接続が切れました。再接続しています…",
        "connection_restored": "接続が回復しました。",
    },
    "en": {
        "title": "Station crowding map",
        "skip": "Skip to content",
        "language": "Language",
        "switch_to": "日本語",
        "floors": "Floors",
        "map": "Map",
        "list": "List",
        "legend": "Legend",
        "moving": "Person walking",
        "stopped": "Person standing",
        "no_data": "No data",
        "last_update": "Last update",
        "waiting": "Waiting for data…",
        "zones": "Crowding by area",
        "map_help": "Tap an area for its name and crowding. Zoom with the + and − buttons or by pinching.",
        "privacy": "Cameras and privacy",
        "simulation": "Simulation (not a real station)",
        "notice_title": "Notice on the use of camera images",
        "notice_intro": (
            "This map detects only the positions of people in the station's camera views"
            " and shows them as anonymous icons."
        ),
        "operator": "Operator",
        "purpose": "Purpose",
        "captured": "What is captured and what is generated",
        "retention": "Retention",
        "contact": "Contact",
        "contact_details": "How to reach us",
        "open_data": "Public crowding data",
        "camera_places": "Where the cameras are",
        "cameras_on_floor": "%s: %d cameras",
        "cameras_see": ", filming these areas: ",
        "list_sep": ", ",
        "cameras_map_note": "On the map, floor that no camera films is drawn dotted.",
        "no_cameras": "This station has no cameras.",
        "data_requests": "About your data",
        "back_to_map": "Back to the map",
        "login": "Log in",
        "logout": "Log out",
        "username": "User name",
        "password": "Password",
        "login_failed": "Wrong user name or password.",
        "login_limited": "Too many login attempts. Please try again later.",
        "staff": "Staff dashboard",
        "role_staff": "staff",
        "role_operator": "operator",
        "alert_sound": "Play a sound on new alerts",
        "scales_title": "Two scales: the public crowding level and Fruin's level of service",
        "scales_intro": (
            "The public map shows four crowding levels, in words and colours. Staff also see Fruin's level of"
            " service (LOS, A to F). The levels' bounds can be set per area and follow the LOS by default"
            " (A-B: quiet, C: busy, D: crowded, E-F: very crowded); each area's bounds are drawn on its chart."
        ),
        "public_scale": "Public crowding level",
        "level_word": "Shown as",
        "meaning": "Meaning",
        "default_from": "Default bounds",
        "los_scale": "Level of service (Fruin, upper bound in people/m²)",
        "walkway": "Walkway",
        "queuing": "Queuing (platforms, queues)",
        "export_csv": "Export CSV",
        "alerts": "Alerts",
        "alert_history": "Earlier alerts",
        "live_map": "Live map",
        "areas": "Areas",
        "cameras": "Cameras",
        "op_calibrate_title": "Calibrating a camera",
        "op_calibrate_intro": (
            "The calibration tool runs on the camera's edge node and shows the camera's view, so it is"
            " never exposed to a network: reach it through an SSH tunnel. This page never shows images."
        ),
        "op_step_tunnel": "Open a tunnel to the edge node:",
        "op_step_start": "Start the tool on the edge node:",
        "op_step_open": "Open it in the browser:",
        "op_step_check": "After saving, check the whole station:",
        "op_no_check": "No camera check available (this web process could not run it). Run:",
        "op_check_at": "Layout check",
        "op_check_ok": "all %d cameras calibrated and trusted",
        "op_check_failed": "%d of %d cameras cannot be trusted",
        "op_coverage": "the cameras see %d%% of the walkable floor (%d of %d m²)",
        "op_kind": "Calibration",
        "op_pairs": "%d point pairs",
        "op_rms": "Fit error (RMS)",
        "op_loo": "Leave-one-out error (RMS)",
        "op_limit": "Limit",
        "op_seen": "Floor seen",
        "op_zones": "Areas it sees",
        "op_detector": "People and the detector",
        "op_failed": "Calibration cannot be trusted",
        "kind_point_pairs": "point pairs",
        "kind_image_to_floor": "image-to-floor matrix",
        "kind_camera_model": "camera model",
        "state_live": "live",
        "state_reconnecting": "reconnecting",
        "state_stalled": "stalled",
        "state_dead": "dead",
        "state_unknown": "no report yet",
        "operator_tools": "Operator tools",
        "station": "Station",
        "connection_lost": "Connection lost. Reconnecting…",
        "connection_restored": "Connection restored.",
    },
}


def choose_language(request: Request) -> str:
    """``?lang=``, else the language cookie, else the browser's Accept-Language, else Japanese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "ja"


# What each step of the two scales means, for the staff page (levels follow iconizer.types.CrowdingLevel).
PUBLIC_LEVELS: dict[str, list[dict[str, str]]] = {
    "ja": [
        {"word": "空いています", "meaning": "自由に歩けます", "los": "LOS A・B"},
        {"word": "やや混雑", "meaning": "歩く速さが少し制限されます", "los": "LOS C"},
        {"word": "混雑", "meaning": "多くの人の速さが制限され、接触しやすくなります", "los": "LOS D"},
        {"word": "大変混雑", "meaning": "流れが滞り、危険になりえます", "los": "LOS E・F"},
    ],
    "en": [
        {"word": "quiet", "meaning": "people walk freely", "los": "LOS A-B"},
        {"word": "busy", "meaning": "walking speed somewhat restricted", "los": "LOS C"},
        {"word": "crowded", "meaning": "most people slowed, frequent contact", "los": "LOS D"},
        {"word": "very crowded", "meaning": "flow breaks down, can become dangerous", "los": "LOS E-F"},
    ],
}
LOS_MEANINGS: dict[str, dict[str, list[str]]] = {
    "ja": {
        "walkway": [
            "自由に歩ける",
            "ときどき人を避ける",
            "速さが制限され、横切るのが難しい",
            "多くの人の速さが制限される",
            "全員が小刻みにしか歩けない",
            "流れが止まりがち",
        ],
        "queuing": [
            "列の中を自由に動ける",
            "動きがやや制限される",
            "人を避けながらなら動ける",
            "接触を避けるのが難しい",
            "接触が避けられない",
            "体が密着し危険",
        ],
    },
    "en": {
        "walkway": [
            "free flow",
            "minor conflicts",
            "speed restricted, crossing difficult",
            "most people's speed restricted",
            "everyone shuffles",
            "flow breaks down",
        ],
        "queuing": [
            "free circulation",
            "circulation restricted",
            "personal space kept, moving disturbs others",
            "contact hard to avoid",
            "contact unavoidable",
            "body contact, dangerous",
        ],
    },
}
