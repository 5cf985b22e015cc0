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
        "data_requests": "ご自身のデータについて",
        "back_to_map": "地図に戻る",
        "login": "ログイン",
        "logout": "ログアウト",
        "username": "ユーザー名",
        "password": "パスワード",
        "login_failed": "ユーザー名またはパスワードが違います。",
        "login_limited": "ログインの試行が多すぎます。しばらくしてからお試しください。",
        "staff": "スタッフ用ダッシュボード",
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
        "data_requests": "About your data",
        "back_to_map": "Back to the map",
        "login": "Log in",
        "logout": "Log out",
        "username": "User name",
        "password": "Password",
        "login_failed": "Wrong user name or password.",
        "login_limited": "Too many login attempts. Please try again later.",
        "staff": "Staff dashboard",
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
