# ruff: noqa: RUF001 (words in other scripts, on purpose)
"""Short texts (one to three words) in the languages translation supports, as people send them to
DeepLX one at a time (a menu item, a greeting, a button): the measurement of short-text detection
(docs/translation.md, "Short texts") and its test. Everyday words a speaker would recognise at once;
none chosen to trip or to flatter a detector. No text is the same in two languages, but Indonesian
and Malay share most everyday words: `SAME` counts either answer right for them."""

from __future__ import annotations

SHORT_TEXTS: dict[str, list[str]] = {
    "en": ["Hello", "Thank you", "Good morning", "See you tomorrow", "Where is the station?", "Sign in"],
    "de": ["Danke schön", "Guten Morgen", "Wie geht's?", "Bis morgen", "Anmelden", "Entschuldigung"],
    "fr": ["Merci", "Bonjour", "S'il vous plaît", "À demain", "Se connecter", "Bonne nuit"],
    "es": ["Gracias", "Buenos días", "¿Dónde está?", "Hasta mañana", "Iniciar sesión", "Lo siento"],
    "it": ["Grazie mille", "Buongiorno", "Arrivederci", "Per favore", "Accedi", "Buona notte"],
    "pt": ["Obrigado", "Bom dia", "Até amanhã", "Muito obrigada", "Boa noite", "Não sei"],
    "nl": ["Dank je wel", "Goedemorgen", "Tot morgen", "Inloggen", "Alsjeblieft", "Hoe gaat het?"],
    "sv": ["Tack så mycket", "God morgon", "Hej då", "Logga in", "Vad heter du?", "Ursäkta"],
    "no": ["Tusen takk", "God morgen", "Jeg vet ikke", "Logg inn", "Hva heter du?", "Unnskyld meg"],
    "da": ["Mange tak", "Godmorgen", "Farvel", "Log ind", "Hvad hedder du?", "Undskyld mig"],
    "fi": ["Kiitos paljon", "Hyvää huomenta", "Näkemiin", "Kirjaudu sisään", "Anteeksi", "Mitä kuuluu?"],
    "pl": ["Dziękuję", "Dzień dobry", "Do widzenia", "Zaloguj się", "Przepraszam", "Jak się masz?"],
    "cs": ["Děkuji", "Dobré ráno", "Na shledanou", "Přihlásit se", "Promiňte", "Jak se máš?"],
    "sk": ["Ďakujem", "Dobrý deň", "Dovidenia", "Prihlásiť sa", "Prepáčte", "Ako sa máš?"],
    "hu": ["Köszönöm", "Jó reggelt", "Viszontlátásra", "Bejelentkezés", "Elnézést", "Hogy vagy?"],
    "ro": ["Mulțumesc", "Bună dimineața", "La revedere", "Conectare", "Scuzați-mă", "Ce mai faci?"],
    "hr": ["Hvala lijepa", "Dobro jutro", "Doviđenja", "Prijava", "Oprostite", "Kako si?"],
    "tr": ["Teşekkürler", "Günaydın", "Görüşürüz", "Giriş yap", "Affedersiniz", "Nasılsın?"],
    "id": ["Terima kasih", "Selamat pagi", "Sampai jumpa", "Masuk akun", "Permisi", "Apa kabar?"],
    "ms": ["Terima kasih banyak", "Selamat petang", "Jumpa lagi", "Log masuk", "Maafkan saya", "Apa khabar?"],
    "vi": ["Cảm ơn", "Xin chào", "Tạm biệt", "Đăng nhập", "Xin lỗi", "Bạn khỏe không?"],
    "ru": ["Спасибо", "Доброе утро", "До свидания", "Войти", "Извините", "Как дела?"],
    "uk": ["Дякую", "Доброго ранку", "До побачення", "Увійти", "Вибачте", "Як справи?"],
    "bg": ["Благодаря", "Добро утро", "Довиждане", "Вход", "Извинете", "Как си?"],
    "sr": ["Хвала", "Добро јутро", "Довиђења", "Пријава", "Опростите", "Како си?"],
    "el": ["Ευχαριστώ", "Καλημέρα", "Αντίο", "Σύνδεση", "Συγγνώμη", "Τι κάνεις;"],
    "ar": ["شكرا", "صباح الخير", "مع السلامة", "تسجيل الدخول", "عفوا", "كيف حالك؟"],
    "he": ["תודה", "בוקר טוב", "להתראות", "התחברות", "סליחה", "מה שלומך?"],
    "hi": ["धन्यवाद", "सुप्रभात", "फिर मिलेंगे", "लॉग इन करें", "माफ़ कीजिए", "आप कैसे हैं?"],
    "th": ["ขอบคุณ", "สวัสดีตอนเช้า", "ลาก่อน", "เข้าสู่ระบบ", "ขอโทษ", "สบายดีไหม"],
    "zh": ["谢谢", "早上好", "再见", "登录", "对不起", "你好吗？"],
    "ja": ["ありがとう", "おはようございます", "さようなら", "ログイン", "すみません", "お元気ですか？"],
    "ko": ["감사합니다", "좋은 아침", "안녕히 가세요", "로그인", "죄송합니다", "잘 지내요?"],
}

# Languages whose short everyday phrases a person could not tell apart either.
SAME: dict[str, set[str]] = {"id": {"id", "ms"}, "ms": {"id", "ms"}}
