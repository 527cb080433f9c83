import './base.css';
import './runs.css';
import './explorer.css';
